"""Serialisation protocols: store values of chosen types with your own format, not pickle.

As in the original laminar library::

    datastore = datastores.Local()

    @datastore.protocol(dict, list)
    class Json(serde.Protocol):
        def dumps(self, value): return json.dumps(value).encode()
        def loads(self, stream): return json.loads(stream)

A protocol is looked up by the exact type's name (``type(value).__name__``), so it does not
apply to subclasses. Protocols are registered when the flow's file is imported, in every
process that runs it (locally, and in each deployed task), and apply to every datastore of
that process. A value whose type has no protocol is stored with cloudpickle.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Any, Generic, TypeVar

from laminar.errors import ConfigurationError

T = TypeVar("T")
P = TypeVar("P", bound="Protocol[Any]")

#: Type name -> the protocol that stores values of that exact type.
PROTOCOLS: dict[str, Protocol[Any]] = {}


class Protocol(Generic[T]):
    """Bytes for a value and back: override ``dumps`` and ``loads`` (``dump`` and ``load``,
    on files, follow from them)."""

    def dumps(self, value: T) -> bytes:
        raise NotImplementedError(f"{type(self).__name__} must define dumps(self, value)")

    def loads(self, stream: bytes) -> T:
        raise NotImplementedError(f"{type(self).__name__} must define loads(self, stream)")

    def dump(self, value: T, file: IO[bytes]) -> None:
        file.write(self.dumps(value))

    def load(self, file: IO[bytes]) -> T:
        return self.loads(file.read())


def protocol(*types: type) -> Callable[[type[P]], type[P]]:
    """Register the decorated ``Protocol`` for values of ``types`` (exact types)."""
    if not types or not all(isinstance(t, type) for t in types):
        raise ConfigurationError(
            "protocol(...) takes the types it stores, such as @datastore.protocol(dict, list)."
        )

    def register(cls: type[P]) -> type[P]:
        if not (isinstance(cls, type) and issubclass(cls, Protocol)):
            raise ConfigurationError(
                f"@protocol(...) decorates serde.Protocol subclasses; {cls!r} is not one."
            )
        instance = cls()
        for kind in types:
            PROTOCOLS[kind.__name__] = instance
        return cls

    return register
