"""What the IR refuses in a flow's names: empty class names, the built-in layer's name,
a layer registered twice, two layers of one name, names differing only in case.

Apart from ``build.py`` so that building the graph reads top to bottom.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING

from laminar.errors import FlowDefinitionError
from laminar.model.parameters import PARAMETERS

if TYPE_CHECKING:
    from laminar.model.flow import Registration


def unique_registrations(flow: str, registrations: list[Registration]) -> dict[str, Registration]:
    """``flow``'s registrations by layer name, each name checked (``FlowDefinitionError``)."""
    by_name: dict[str, Registration] = {}
    for reg in registrations:
        name = reg.layer.__name__
        check_name("Layer", name, source_of(reg.layer))
        if name == PARAMETERS:
            raise FlowDefinitionError(
                f"Layer {name} ({source_of(reg.layer)}) takes the name of the built-in layer that "
                f"holds the flow's inputs; rename it (and read inputs with "
                "def __call__(self, parameters: Parameters))."
            )
        if name in by_name:
            first = by_name[name].layer
            if first is reg.layer:
                raise FlowDefinitionError(
                    f"Layer {name} ({source_of(reg.layer)}) is registered twice in "
                    f"{flow}; remove one of the @{flow}.register lines."
                )
            raise FlowDefinitionError(
                f"Two layers of {flow} are named {name}: one at {source_of(first)} "
                f"and one at {source_of(reg.layer)}. Layer names must be unique; rename one."
            )
        # Each layer has a directory in the datastore: on a case-insensitive file system
        # (macOS, Windows, many mounted buckets' caches) Load and LOAD would share one.
        alike = next((n for n in by_name if n.casefold() == name.casefold()), None)
        if alike is not None:
            raise FlowDefinitionError(
                f"Layers {alike} ({source_of(by_name[alike].layer)}) and {name} "
                f"({source_of(reg.layer)}) of {flow} differ only in case; their results "
                "would share one folder on case-insensitive file systems. Rename one."
            )
        by_name[name] = reg
    return by_name


def check_name(kind: str, name: str, source: str = "") -> None:
    """Refuse an empty class name (``type("", ...)``): it cannot be shown, selected with
    ``--layer`` or told apart in a message.

    Any other name is accepted, spaces, dots, ``--help``, escape codes and non-ASCII letters
    included: the datastore sanitises paths, the shim takes ``--layer=NAME`` and every output
    escapes it. (Python itself refuses NUL and text that is not UTF-8 in class names.)
    """
    if not name:
        where = f" ({source})" if source else ""
        raise FlowDefinitionError(f"{kind} class name is empty{where}: name the class.")


def source_of(cls: type) -> str:
    """``file:line`` of the layer's ``__call__`` (cheap: no source parsing)."""
    call = cls.__dict__.get("__call__")
    code = getattr(inspect.unwrap(call), "__code__", None) if call is not None else None
    if code is None:
        return cls.__qualname__
    return f"{code.co_filename}:{code.co_firstlineno}"


def docstring(cls: type) -> str:
    """The class's own docstring, dedented (not one it inherits: ``Flow``'s is no flow's)."""
    text = cls.__dict__.get("__doc__")
    return inspect.cleandoc(text) if isinstance(text, str) else ""
