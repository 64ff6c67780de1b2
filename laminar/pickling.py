"""cloudpickle, imported on first use, and the flow modules it must pickle by value.

Importing cloudpickle costs a deployed task several milliseconds (it imports logging,
platform, uuid and threading), which is a large share of a trivial task's start-up. Values
of the builtin types below pickle to the same bytes with the standard library's ``pickle``
(cloudpickle's ``reducer_override`` is never called for them), so a task that stores only
such values never imports cloudpickle. Everything else goes through cloudpickle as before.

Loading a flow file asks for its module to be pickled by value (``pickle_by_value``); the
request waits here until cloudpickle is first imported, and is applied before its first use.
This module imports nothing from laminar: the model and the store both use it.
"""

from __future__ import annotations

import contextlib
import pickle
import sys
from types import ModuleType
from typing import Any

#: Exact types whose pickle is the same with ``pickle`` and cloudpickle.
PLAIN = frozenset({int, float, str, bytes, bool, type(None)})
#: Containers of such values pickle the same too; checked up to this size and depth only,
#: so deciding costs far less than pickling (larger ones go to cloudpickle).
_CONTAINERS = frozenset({list, tuple, set, frozenset, dict})
_MAX_ITEMS = 64
_MAX_DEPTH = 3

_pending: list[ModuleType] = []


def pickle_by_value(module: ModuleType) -> None:
    """Have cloudpickle pickle ``module``'s classes and functions by value (a task on another
    machine need not import the flow file under the same module name to read them)."""
    _pending.append(module)
    if "cloudpickle" in sys.modules:
        load()


def forget(module: ModuleType) -> None:
    """Undo ``pickle_by_value(module)`` (an unloaded flow module; see ``laminar.cli.inprocess``)."""
    while module in _pending:
        _pending.remove(module)
    if "cloudpickle" in sys.modules:
        import cloudpickle

        with contextlib.suppress(ValueError):  # it was never registered
            cloudpickle.unregister_pickle_by_value(module)


def load() -> Any:
    """The cloudpickle module, with every pending ``pickle_by_value`` request applied."""
    import cloudpickle

    while _pending:
        module = _pending.pop()
        if sys.modules.get(module.__name__) is module:  # not unloaded since
            cloudpickle.register_pickle_by_value(module)
    return cloudpickle


def is_plain(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` pickles to the same bytes with ``pickle`` as with cloudpickle."""
    kind = type(value)
    if kind in PLAIN:
        return True
    if kind not in _CONTAINERS or depth >= _MAX_DEPTH or len(value) > _MAX_ITEMS:
        return False
    items = [*value.keys(), *value.values()] if kind is dict else value
    return all(is_plain(item, depth + 1) for item in items)


class _Cloudpickle:
    """Stands in for the ``cloudpickle`` module in laminar's store: ``import`` on first use."""

    def dumps(self, value: Any, protocol: int | None = None) -> bytes:
        if is_plain(value):
            return pickle.dumps(value, protocol)
        data: bytes = load().dumps(value, protocol=protocol)
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(load(), name)


#: Use as the ``cloudpickle`` module: ``from laminar.pickling import cloudpickle``.
cloudpickle = _Cloudpickle()
