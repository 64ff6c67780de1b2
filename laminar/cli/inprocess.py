"""The shim commands run inside the caller's process, for orchestrators that run Python.

A generated Airflow DAG runs every task as ``python -m laminar task ...`` in a subprocess, and
that start-up (an interpreter, laminar, the flow file) is most of what a small task costs
(issue 15). ``call`` runs the same command inside the worker's own process instead, with the
same arguments, the same exit status and the same output files, and puts back what the command
changed so that the next task in that process starts clean:

* the working directory (``cwd``) and environment variables (``env``) are set for the call
  only, then restored;
* ``sys.path`` is restored (loading a flow file puts its folder first, as ``python flow.py``
  does);
* the flow module and the modules imported from the flow's folder are removed from
  ``sys.modules`` (and from cloudpickle's pickle-by-value registry), so the next call loads
  the flow file afresh, as a new process would, and two flows with same-named helper modules
  do not see each other's. Other modules the flow imported (numpy, ...) stay loaded: that
  is the point, and removing extension modules is not safe. The flip side: a module the
  process had imported before the call is never replaced, so a flow's own ``utils.py`` would
  resolve to an already imported top-level ``utils``, where a fresh process would find the
  flow's. Give such helper modules distinctive names, or keep the subprocess.

Calls are serialised by a lock: the environment and working directory belong to the whole
process. A worker that runs tasks in threads gets one shim at a time; Airflow's task runners
run one task per process.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence

from laminar.cli.main import main

_LOCK = threading.Lock()


def call(
    arguments: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> int:
    """Run ``laminar ARGUMENTS`` in this process; returns its exit status.

    Like ``subprocess.call([sys.executable, "-m", "laminar", *arguments], env=..., cwd=...)``
    except that ``env`` holds only the variables to set on top of the process's own
    (``LAMINAR_EXECUTION``, ``LAMINAR_LEG``, a layer's ``Container(env=...)``), and that
    nothing starts: 0 on success, 1 when the layer failed (its traceback is on stderr),
    2 for a usage or flow error (the message is on stderr).
    """
    with _LOCK, _restored(env, cwd):
        try:
            return main(list(arguments))
        except SystemExit as leaving:  # argparse: --help, or a usage error
            code = leaving.code
            return code if isinstance(code, int) else (0 if code is None else 1)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()


@contextlib.contextmanager
def _restored(env: Mapping[str, str] | None, cwd: str | os.PathLike[str] | None) -> Iterator[None]:
    saved_environ = {key: os.environ.get(key) for key in env or {}}
    saved_cwd = os.getcwd()
    saved_path = list(sys.path)
    saved_modules = set(sys.modules)
    try:
        os.environ.update(env or {})
        if cwd is not None:
            os.chdir(cwd)
        yield
    finally:
        added_paths = [entry for entry in sys.path if entry not in saved_path]
        sys.path[:] = saved_path
        _forget_flow_modules(set(sys.modules) - saved_modules, added_paths)
        os.chdir(saved_cwd)
        for key, value in saved_environ.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _forget_flow_modules(names: set[str], folders: list[str]) -> None:
    """Unload the flow modules among ``names``: laminar's, and those found in ``folders``."""
    from laminar import pickling
    from laminar.model import attributes
    from laminar.model.loader import FLOW_MODULE_PREFIX

    roots = tuple(os.path.join(os.path.abspath(folder), "") for folder in folders)
    for name in names:
        module = sys.modules.get(name)
        path = getattr(module, "__file__", None) or ""
        if name.startswith(FLOW_MODULE_PREFIX) or (roots and path.startswith(roots)):
            pickling.forget(sys.modules.pop(name))
    # The flow file may change before the next call; its syntax tree is read again then.
    attributes.forget_sources()
