"""The ``Accessor``: a lazy, list-like view of a sharded attribute or of a ForEach join.

It behaves like a read-only list (``len``, iteration, ``acc[i]`` with negative indexes,
``acc[i:j:k]`` returning a list, ``IndexError``/``TypeError`` as a list raises them), but
reads from the datastore only the elements asked for.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator, Sequence
from typing import Any, Protocol, overload


class Source(Protocol):
    """Where an Accessor's elements come from (a chunked shard, or the tasks of a ForEach)."""

    label: str

    def __len__(self) -> int: ...

    def get(self, index: int) -> Any: ...

    def get_many(self, indices: Sequence[int]) -> list[Any]: ...

    def iterate(self) -> Iterator[Any]: ...

    def describe(self) -> tuple[Any, ...]:
        """A small, picklable reference to the same elements (stored instead of a copy)."""
        ...


class Accessor(Sequence[Any]):
    __slots__ = ("_length", "_source")

    def __init__(self, source: Source) -> None:
        self._source = source
        self._length = len(source)

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return self._source.get_many(range(*index.indices(self._length)))
        try:
            position = operator.index(index)
        except TypeError:
            raise TypeError(
                f"Accessor indices must be integers or slices, not {type(index).__name__}"
            ) from None
        if position < 0:
            position += self._length
        if not 0 <= position < self._length:
            raise IndexError(
                f"Accessor index out of range ({self._source.label} has {self._length})"
            )
        return self._source.get(position)

    def stored(self, index: int) -> bytes | None:
        """Element ``index`` (0 <= index < len) as stored, when the source keeps each element's
        bytes (a shard's chunks); else None."""
        raw = getattr(self._source, "stored", None)
        return None if raw is None else bytes(raw(index))

    def stored_many(self, indices: Sequence[int]) -> list[bytes] | None:
        """``stored`` for many elements, read together (a shard chunk's span once)."""
        for index in (min(indices), max(indices)) if indices else ():
            if not 0 <= index < self._length:
                raise IndexError(f"Accessor index out of range ({self._source.label})")
        raw = getattr(self._source, "stored_many", None)
        return None if raw is None else list(raw(indices))

    def __iter__(self) -> Iterator[Any]:
        return self._source.iterate()

    def __eq__(self, other: object) -> bool:
        # Compares like the list it stands for: ``shard.foo == [1, 2, 3]``.
        if not isinstance(other, (Accessor, list, tuple)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # mutable-looking, like a list

    def __repr__(self) -> str:
        return f"<Accessor {self._source.label}: {self._length} items>"

    def __reduce__(self) -> tuple[Any, ...]:
        # Nested inside another value, an Accessor is stored as the list it stands for.
        return (list, (list(self),))

    @property
    def source(self) -> Source:
        return self._source
