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
import pickle
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import cloudpickle

MAGIC = b"LMC1"
_HEAD = len(MAGIC) + 8
#: A chunk is closed when it holds this many elements or bytes, whichever comes first.
CHUNK_ELEMENTS = 65_536
CHUNK_BYTES = 8 * 1024 * 1024


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
    pickler = cloudpickle.CloudPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    offsets = [0]

    def flush() -> None:
        nonlocal buffer, pickler, offsets
        count = len(offsets) - 1
        header = MAGIC + struct.pack(f"<Q{count + 1}Q", count, *offsets)
        path = name(len(chunks))
        write(path, header + buffer.getvalue())
        chunks.append(ChunkInfo(path, count))
        buffer = io.BytesIO()
        pickler = cloudpickle.CloudPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
        offsets = [0]

    for position, value in enumerate(values):
        try:
            pickler.dump(value)
        except Exception as error:  # unpicklable element: name it
            raise on_error(position, error) from error
        pickler.clear_memo()
        offsets.append(buffer.tell())
        if len(offsets) > CHUNK_ELEMENTS or offsets[-1] >= CHUNK_BYTES:
            flush()
    if len(offsets) > 1:
        flush()
    return chunks


def element_range(header: bytes) -> tuple[int, int]:
    start, end = struct.unpack("<QQ", header)
    return start, end


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
    base = data_start(count)
    view = memoryview(data)
    for k in range(count):
        yield pickle.loads(view[base + offsets[k] : base + offsets[k + 1]])
