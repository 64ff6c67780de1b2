"""Where an Accessor's elements come from: the chunks of a shard, or a ForEach's tasks.

Both read through an ``Execution`` and fetch in concurrent batches on remote stores, so a
join or an iteration costs a few round trips, not one per element.
"""

from __future__ import annotations

import bisect
import pickle
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from laminar.errors import ArtifactError, ExecutionError
from laminar.store import chunks

if TYPE_CHECKING:
    from laminar.store.execution import Execution, Manifest

#: How many manifests or chunks a join or iteration fetches in one concurrent batch.
BATCH = 256
#: The first item of ``describe()``: which kind of source a stored reference names.
SHARD, JOIN = "shard", "join"


class ShardSource:
    """Elements of one ``self.shard(...)`` attribute, spread over chunk files."""

    def __init__(self, execution: Execution, chunk_list: Sequence[Any], label: str) -> None:
        self.execution = execution
        self.chunks = tuple((str(p), int(c)) for p, c in chunk_list)
        self.label = label
        self.starts: list[int] = []
        total = 0
        for _, count in self.chunks:
            self.starts.append(total)
            total += count
        self.length = total

    def __len__(self) -> int:
        return self.length

    def describe(self) -> tuple[Any, ...]:
        return (SHARD, self.chunks)

    def _locate(self, index: int) -> tuple[str, int, int]:
        k = bisect.bisect_right(self.starts, index) - 1
        path, count = self.chunks[k]
        return self.execution.absolute(path), index - self.starts[k], count

    def get(self, index: int) -> Any:
        store = self.execution.store
        path, position, count = self._locate(index)
        begin, end = chunks.offset_span(position)
        start, stop = chunks.element_range(store.read_range(path, begin, end))
        base = chunks.data_start(count)
        return pickle.loads(store.read_range(path, base + start, base + stop))

    def get_many(self, indices: Sequence[int]) -> list[Any]:
        if len(indices) <= 8:
            return [self.get(i) for i in indices]
        wanted = set(indices)
        needed = sorted({bisect.bisect_right(self.starts, i) - 1 for i in wanted})
        found: dict[int, Any] = {}
        step = 1 if self.execution.store.local else 4  # a few chunks fetched concurrently
        for first in range(0, len(needed), step):
            batch = needed[first : first + step]
            for k, values in zip(batch, self._read_chunks(batch), strict=True):
                start = self.starts[k]
                found.update(
                    (start + offset, value)
                    for offset, value in enumerate(values)
                    if start + offset in wanted
                )
        return [found[i] for i in indices]

    def _read_chunks(self, ks: Sequence[int]) -> list[list[Any]]:
        paths = [self.execution.absolute(self.chunks[k][0]) for k in ks]
        datas = self.execution.store.read_many(paths)
        out = []
        for path, data in zip(paths, datas, strict=True):
            if data is None:
                raise ArtifactError(f"{self.label}: chunk {path} is missing from the datastore.")
            out.append(list(chunks.iter_chunk(data)))
        return out

    def iterate(self) -> Iterator[Any]:
        # One chunk in memory at a time locally; a small concurrent batch on remote stores.
        step = 1 if self.execution.store.local else 4
        for first in range(0, len(self.chunks), step):
            for values in self._read_chunks(range(first, min(first + step, len(self.chunks)))):
                yield from values


class JoinSource:
    """Attribute ``attribute`` of every task of a ForEach layer, in task order."""

    def __init__(self, execution: Execution, layer: str, attribute: str, count: int) -> None:
        self.execution = execution
        self.layer = layer
        self.attribute = attribute
        self.count = count
        self.label = f"{layer}.{attribute}"

    def __len__(self) -> int:
        return self.count

    def describe(self) -> tuple[Any, ...]:
        return (JOIN, self.layer, self.attribute, self.count)

    def _value(self, task: int, manifest: Manifest | None) -> Any:
        if manifest is None:
            raise ExecutionError(
                f"{self.label}: task {task} of {self.layer} has no committed results in "
                f"execution {self.execution.id}."
            )
        try:
            entry = manifest.attributes[self.attribute]
        except KeyError:
            known = ", ".join(sorted(manifest.attributes)) or "nothing"
            raise ArtifactError(
                f"{self.layer} task {task} never set self.{self.attribute} (it set: {known})."
            ) from None
        return self.execution.decode(entry, f"{self.label}[{task}]")

    def get(self, index: int) -> Any:
        return self._value(index, self.execution.read_manifest(self.layer, str(index)))

    def get_many(self, indices: Sequence[int]) -> list[Any]:
        out: list[Any] = []
        for first in range(0, len(indices), BATCH):
            batch = list(indices[first : first + BATCH])
            manifests = self.execution.read_manifests(self.layer, [str(i) for i in batch])
            out.extend(self._value(i, m) for i, m in zip(batch, manifests, strict=True))
        return out

    def iterate(self) -> Iterator[Any]:
        for first in range(0, self.count, BATCH):
            yield from self.get_many(range(first, min(first + BATCH, self.count)))
