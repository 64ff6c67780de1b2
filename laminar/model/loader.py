"""Turn a FLOW reference (``path/to/flow.py`` or ``path/to/flow.py:FlowName``) into a class.

The file is imported with ``MyFlow()`` made falsy, so ``if flow := MyFlow(): flow()`` does
not start a run while laminar inspects, compiles or runs the file as a task.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

from laminar.errors import FlowLoadError
from laminar.model.flow import LOADING, Flow
from laminar.pickling import pickle_by_value
from laminar.text import printable, shell_word

#: Module names of loaded flow files start with this (the rest: file stem and path digest).
FLOW_MODULE_PREFIX = "laminar_flow_"


def split_reference(reference: str) -> tuple[str, str | None]:
    """``path.py:Name`` as (path, name), else (reference, None).

    The name is any text after the last ``:``, not only an identifier: a flow class made with
    ``type("Nightly run", (Flow,), {})`` is addressed as ``flow.py:Nightly run``, as compiled
    workflows do. A path that holds ``:`` itself is read whole: ``C:\\flows\\x.py`` since the
    part before the last ``:`` does not end in ``.py``, ``dir.py:x/flow.py`` since it is a file.
    """
    path, sep, name = reference.rpartition(":")
    if sep and path.endswith(".py") and name and not os.path.isfile(reference):
        return path, name
    return reference, None


def flows_in(path: str) -> list[type[Flow]]:
    """The ``Flow`` subclasses a flow file defines, each once (an alias is not a second flow)."""
    module = load_module(path)
    found = [
        # A flow object (``flow = Flow("Name")``, the original library's spelling) is its class.
        type(value) if isinstance(value, Flow) else value
        for value in vars(module).values()
        if isinstance(value, Flow) or (isinstance(value, type) and issubclass(value, Flow))
    ]
    return [f for f in dict.fromkeys(found) if f is not Flow and f.__module__ == module.__name__]


def load_flow(reference: str) -> type[Flow]:
    path, name = split_reference(reference)
    flows = flows_in(path)
    if name is not None:
        for flow in flows:
            if flow.__name__ == name:
                return flow
        found = ", ".join(printable(f.__name__) for f in flows) or "none"
        raise FlowLoadError(
            f"{printable(path)} defines no Flow named {printable(name)} (it defines: {found})."
        )
    if not flows:
        raise FlowLoadError(
            f"{path} defines no Flow subclass. Add class MyFlow(Flow): ... and register "
            "layers on it."
        )
    if len(flows) > 1:
        names = ", ".join(printable(f.__name__) for f in flows)
        example = shell_word(f"{path}:{flows[0].__name__}")
        raise FlowLoadError(f"{path} defines several flows ({names}); choose one with {example}.")
    return flows[0]


def load_module(path: str) -> ModuleType:
    file = Path(path)
    if not file.is_file():
        raise FlowLoadError(f"No flow file at {path!r} (looked in {os.getcwd()}).")
    resolved = file.resolve()
    digest = f"{_fnv1a(str(resolved).encode()):016x}"[:10]
    stem = "".join(c if c.isalnum() else "_" for c in resolved.stem)
    module_name = f"{FLOW_MODULE_PREFIX}{stem}_{digest}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    directory = str(resolved.parent)
    if directory not in sys.path:
        sys.path.insert(0, directory)  # like `python flow.py`: sibling modules import
    spec = importlib.util.spec_from_file_location(module_name, resolved)
    if spec is None or spec.loader is None:
        raise FlowLoadError(f"Cannot import {path}: not a Python file.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    token = LOADING.set(True)
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as error:
        del sys.modules[module_name]
        from laminar.tracebacks import user_frames

        text = user_frames(error).rstrip()
        if isinstance(error, SystemExit):  # exit 0 would pass for success, having done nothing
            raise FlowLoadError(
                f"Importing {path} called sys.exit({error.code!r}), so laminar cannot read its "
                f"flow:\n{text}\nA flow file must not exit when imported: move that call "
                'under if __name__ == "__main__":.'
            ) from None
        raise FlowLoadError(f"Importing {path} failed:\n{text}") from error
    finally:
        LOADING.reset(token)
    # Values of classes defined in the flow file are pickled by value, so a task on another
    # machine can read them without importing the file under the same module name.
    pickle_by_value(module)
    return module


def _fnv1a(data: bytes) -> int:
    """A stable 64-bit digest (FNV-1a) for module names: hashlib would cost a deployed
    task's start-up a millisecond or more just to import OpenSSL, and ``hash()`` changes
    with every process."""
    digest = 0xCBF29CE484222325
    for byte in data:
        digest = ((digest ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return digest
