"""Chunked storage of sharded values.

``self.shard(foo=iterable)`` may hold a million elements, or a hundred large ones. Elements
are pickled one by one into chunk files of bounded size; each chunk starts with a table of
offsets, so reading element ``i`` costs two small range reads and never touches the others,
and iterating streams one chunk at a time with bounded memory.

Chunk file: ``b"LMC1"``, element count ``n`` (uint64 LE), ``n + 1`` offsets (uint64 LE,
relative to the data section), then the concatenated pickles.
"""

from __future__ import annotations

import io
import itertools
import pickle
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from laminar.pickling import cloudpickle

MAGIC = b"LMC1"
_HEAD = len(MAGIC) + 8
#: A chunk is closed when it holds this many elements or bytes, whichever comes first.
CHUNK_ELEMENTS = 65_536
CHUNK_BYTES = 8 * 1024 * 1024
#: Types whose standard pickle is exactly cloudpickle's, pickled without a Pickler per value.
_PLAIN = frozenset({int, float, str, bytes, bool, type(None)})


@dataclass(frozen=True)
class ChunkInfo:
    path: str  # relative to the execution directory
    count: int


def data_start(count: int) -> int:
    return _HEAD + 8 * (count + 1)


def write_chunks(
    values: Iterable[Any],
    write: Callable[[str, bytes], None],
    name: Callable[[int], str],
    on_error: Callable[[int, Exception], Exception],
) -> list[ChunkInfo]:
    """Pickle ``values`` into chunk files written with ``write(name(k), data)``."""
    chunks: list[ChunkInfo] = []
    buffer = io.BytesIO()
    # Made at the first element that needs it: a shard of plain values never imports
    # cloudpickle (see laminar.pickling).
    pickler: Any = None
    offsets = [0]

    def flush() -> None:
        nonlocal buffer, pickler, offsets
        count = len(offsets) - 1
        header = MAGIC + struct.pack(f"<Q{count + 1}Q", count, *offsets)
        path = name(len(chunks))
        write(path, header + buffer.getvalue())
        chunks.append(ChunkInfo(path, count))
        buffer = io.BytesIO()
        pickler = None
        offsets = [0]

    # The loop runs once per element (a million times for a large shard): keep it tight.
    dumps, protocol, plain = pickle.dumps, pickle.HIGHEST_PROTOCOL, _PLAIN
    max_elements, max_bytes = CHUNK_ELEMENTS, CHUNK_BYTES
    size = 0
    for position, value in enumerate(values):
        if type(value) in plain:
            size += buffer.write(dumps(value, protocol))
        else:
            if pickler is None:
                pickler = cloudpickle.CloudPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
            try:
                pickler.dump(value)
            except Exception as error:  # unpicklable element: name it
                raise on_error(position, error) from error
            pickler.clear_memo()
            size = buffer.tell()
        offsets.append(size)
        if len(offsets) > max_elements or size >= max_bytes:
            flush()
            size = 0
    if len(offsets) > 1:
        flush()
    return chunks


def element_range(header: bytes) -> tuple[int, int]:
    start, end = struct.unpack("<QQ", header)
    return start, end


def offsets(data: bytes) -> tuple[int, ...]:
    """The offsets packed in ``data`` (a span of a chunk's offset table)."""
    return struct.unpack(f"<{len(data) // 8}Q", data)


def offset_span(index: int) -> tuple[int, int]:
    """Byte range of the two offsets that bound element ``index`` of a chunk."""
    begin = _HEAD + 8 * index
    return begin, begin + 16


def iter_chunk(data: bytes) -> Iterator[Any]:
    """Unpickle every element of a whole chunk file."""
    if data[: len(MAGIC)] != MAGIC:
        raise ValueError("not a laminar chunk file")
    (count,) = struct.unpack_from("<Q", data, len(MAGIC))
    offsets = struct.unpack_from(f"<{count + 1}Q", data, _HEAD)
    view = memoryview(data)[data_start(count) :]
    loads = pickle.loads
    # One comprehension per chunk: a million elements iterate in well under a second.
    return iter([loads(view[a:b]) for a, b in itertools.pairwise(offsets)])
