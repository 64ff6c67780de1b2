"""The ``Layer`` base class: what a user subclasses to write one step of a flow.

A layer instance plays two roles. While it runs, the attributes it sets in ``__call__`` are
its outputs. Passed to a downstream layer, it is a read-only view whose attributes are read
lazily from the datastore (``__getattr__`` only fires for names not set on the instance).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

from laminar.errors import ArtifactError

if TYPE_CHECKING:
    from laminar.store.accessor import Accessor


#: Names laminar itself answers on a downstream view (``upstream.state.finished``): a layer
#: may not store an attribute of that name.
RESERVED_OUTPUTS = frozenset({"state"})


class LayerRuntime(Protocol):
    """What a running layer needs from the shim; implemented in ``laminar.runtime.task``."""

    index: int | None
    #: How many tasks the layer's ForEach has (1 without ForEach).
    splits: int
    #: Which attempt this is (1 first, 2 the first retry, ...).
    attempt_number: int
    #: The layer's settings as registered (``LayerSettings``: foreach, retry, container...).
    configuration: Any

    def shard(self, layer: Layer, attribute: str, values: Iterable[Any]) -> Accessor: ...


class UpstreamReader(Protocol):
    """What a downstream view needs to read an upstream layer's attributes."""

    def read(self, attribute: str) -> Any: ...

    @property
    def finished(self) -> bool:
        """Whether the upstream layer finished (it may have been skipped)."""

    def stores(self, attribute: str) -> bool:
        """Whether the upstream layer stored ``attribute`` (then it wins over the class's)."""


class State:
    """``layer.state``: ``state.finished`` says whether the layer ran to the end.

    A downstream layer reads it on its upstream layers to learn whether one was skipped (an
    entry hook returned False, or a layer before it was skipped) or failed with an error its
    ``Catch`` lists. A running layer has not finished; a layer built with ``Layer(**attrs)``
    for a unit test has.
    """

    __slots__ = ("_layer",)

    def __init__(self, layer: Layer) -> None:
        self._layer = layer

    @property
    def finished(self) -> bool:
        own = object.__getattribute__(self._layer, "__dict__")
        reader = own.get("_laminar_reader")
        if reader is not None:
            return bool(reader.finished)
        return own.get("_laminar_runtime") is None

    def __repr__(self) -> str:
        return f"State(finished={self.finished})"


class _runtime_value:
    """A read-only computed attribute that an instance attribute of the same name overrides
    (unlike ``property``, which would make ``self.name = ...`` in a layer fail)."""

    def __init__(self, function: Any) -> None:
        self.function = function
        self.__doc__ = function.__doc__

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        return self if instance is None else self.function(instance)


def _returning_self(call: Any) -> Any:
    """``layer(...)`` returns the layer when ``__call__`` returns nothing, so a unit test can
    write ``assert A()().foo == "bar"``, as with the original laminar library."""

    @functools.wraps(call)
    def __call__(self: Layer, *args: Any, **kwargs: Any) -> Any:
        result = call(self, *args, **kwargs)
        return self if result is None else result

    return __call__


class Layer:
    """One step of a flow. Subclass it, register it with ``@MyFlow.register`` and define
    ``__call__``; its annotated arguments are the layers it depends on.

    Attributes whose names start with an underscore are private to the run and not stored.
    """

    _laminar_runtime: LayerRuntime | None = None
    _laminar_reader: UpstreamReader | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        call = cls.__dict__.get("__call__")
        if call is not None and not hasattr(call, "__wrapped__"):
            cls.__call__ = _returning_self(call)  # type: ignore[method-assign]

    def __init__(self, **attributes: Any) -> None:
        """``Layer(**attributes)``: a layer holding ``attributes``, as a downstream layer would
        see it; for unit tests (``Process()(shard=Shard(foo=[1, 2]))``)."""
        self.__dict__.update(attributes)

    def __call__(self) -> None:
        """A layer without ``__call__`` does nothing (it may still group dependencies)."""

    # The conveniences below are non-data descriptors: a layer may still set (and so store)
    # an attribute of the same name, which then wins, as any stored attribute does.
    @_runtime_value
    def name(self) -> str:
        """The layer's name (its class name)."""
        return type(self).__name__

    @_runtime_value
    def index(self) -> int:
        """This task's position in its ForEach fan-out; 0 for a layer without ForEach. On
        a view mapped 1:1 onto a ForEach task (``Parameter(index=None)``): that task's."""
        runtime = self._laminar_runtime
        if runtime is not None:
            return runtime.index or 0
        return getattr(self._laminar_reader, "task", None) or 0

    @_runtime_value
    def splits(self) -> int:
        """How many tasks this layer's ForEach has; 1 for a layer without ForEach."""
        runtime = self._laminar_runtime
        return runtime.splits if runtime is not None else 1

    @_runtime_value
    def attempt(self) -> int:
        """Which attempt of this task is running: 1, then 2 for the first retry, ..."""
        runtime = self._laminar_runtime
        return runtime.attempt_number if runtime is not None else 1

    @_runtime_value
    def state(self) -> State:
        """Whether the layer finished: ``upstream.state.finished``."""
        return State(self)

    @_runtime_value
    def configuration(self) -> Any:
        """The layer's settings as registered (a read-only ``LayerSettings``: ``.foreach``,
        ``.retry``, ``.container``, ...)."""
        runtime = self._laminar_runtime
        return runtime.configuration if runtime is not None else None

    def shard(self, **attributes: Iterable[Any]) -> None:
        """Store each value that ``iter(attribute)`` yields separately.

        Downstream, each attribute reads as an ``Accessor``: lazy, indexable and sliceable.
        Inside this layer the attribute becomes that Accessor too.
        """
        runtime = self._laminar_runtime
        if runtime is None:
            raise ArtifactError(
                f"{type(self).__name__}.shard() can only be called while the layer runs, "
                "inside its __call__."
            )
        for name, values in attributes.items():
            accessor = runtime.shard(self, name, values)
            object.__setattr__(self, name, accessor)

    def __getattribute__(self, name: str) -> Any:
        # On a downstream view, what the layer stored wins over the class's own attribute,
        # property or method of the same name (a class default ``threshold = 0.5`` must not
        # hide the 0.9 the layer stored). Private and dunder names never read the store.
        if name[:1] != "_":
            own = object.__getattribute__(self, "__dict__")
            if name not in own:
                reader = own.get("_laminar_reader")
                if reader is not None and reader.stores(name):
                    return reader.read(name)
        return object.__getattribute__(self, name)

    def __getattr__(self, name: str) -> Any:
        # Only called for names not found normally: on a downstream view, read the artifact.
        reader = None if name.startswith("__") else self.__dict__.get("_laminar_reader")
        if reader is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return reader.read(name)

    def __repr__(self) -> str:
        return f"<layer {type(self).__name__}>"
