"""Where an Accessor's elements come from: the chunks of a shard, or a ForEach's tasks.

Both get what they read from as arguments (``Objects`` for chunks; ``Commits`` and a decoder
for a join), never the ``Execution`` facade, and fetch in concurrent batches on remote stores, so a
join or an iteration costs a few round trips, not one per element. Every chunk is checked
against the tag its commit recorded before an element of it is unpickled, so even a single
element read fetches the 64 KiB blocks that hold it (the last few are kept for the next read).
"""

from __future__ import annotations

import bisect
import pickle
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NoReturn

from laminar.errors import ArtifactError, ExecutionError
from laminar.store import chunks
from laminar.store.commits import Commits
from laminar.store.integrity import BLOCK, CorruptObjectError
from laminar.store.objects import Objects
from laminar.store.records import Manifest

#: Decodes a manifest entry into its value (``Codec.decode``); the label names it in errors.
Decode = Callable[[tuple[str, Any], str], Any]

#: How many manifests or chunks a join or iteration fetches in one concurrent batch.
BATCH = 256
#: The first item of ``describe()``: which kind of source a stored reference names.
SHARD, JOIN = "shard", "join"


class ShardSource:
    """Elements of one ``self.shard(...)`` attribute, spread over chunk files."""

    def __init__(self, objects: Objects, chunk_list: Sequence[Any], label: str) -> None:
        self.objects = objects
        #: Per chunk: path relative to the execution, element count, byte size, block tags.
        self.chunks = tuple(
            (str(p), int(c), int(size), tuple((int(t[0]), bytes(t[1])) for t in tags))
            for p, c, size, tags in chunk_list
        )
        self.label = label
        self.starts: list[int] = []
        total = 0
        for _, count, _, _ in self.chunks:
            self.starts.append(total)
            total += count
        self.length = total

    def __len__(self) -> int:
        return self.length

    def describe(self) -> tuple[Any, ...]:
        return (SHARD, self.chunks, self.label)

    @property
    def _layer(self) -> str:
        return self.label.split(".", 1)[0]

    def _path(self, k: int) -> str:
        return self.objects.layout.absolute(self.chunks[k][0])

    def get(self, index: int) -> Any:
        """Element ``index``: reads and checks the one or two blocks holding its offsets and
        its bytes (64 KiB each at most), never the rest of the chunk."""
        return pickle.loads(self.stored(index))

    def stored(self, index: int) -> bytes:
        """Element ``index`` as stored (its pickle), read as ``get`` reads it."""
        k = bisect.bisect_right(self.starts, index) - 1
        _, count, _, _ = self.chunks[k]
        begin, end = chunks.offset_span(index - self.starts[k])
        start, stop = chunks.element_range(self._range(k, begin, end))
        base = chunks.data_start(count)
        return self._range(k, base + start, base + stop)

    def stored_many(self, indices: Sequence[int]) -> list[bytes]:
        """Elements ``indices`` as stored, in order: per chunk, one read of the offsets and
        one of the bytes that span them (the cache keys of a leg's tasks: no read per task)."""
        out: list[bytes] = []
        at = 0
        while at < len(indices):  # a run of indices in one chunk at a time, read together
            k = bisect.bisect_right(self.starts, indices[at]) - 1
            end = self.starts[k] + self.chunks[k][1]
            stop = at + 1
            while stop < len(indices) and self.starts[k] <= indices[stop] < end:
                stop += 1
            out.extend(self._stored_run(k, indices[at:stop]))
            at = stop
        return out

    def _stored_run(self, k: int, run: Sequence[int]) -> list[bytes]:
        """Elements ``run`` (all in chunk ``k``) as stored."""
        low, high = min(run) - self.starts[k], max(run) - self.starts[k]
        begin, end = chunks.offset_span(low)[0], chunks.offset_span(high)[1]
        offsets = chunks.offsets(self._range(k, begin, end))
        base = chunks.data_start(self.chunks[k][1])
        data = self._range(k, base + offsets[0], base + offsets[-1])
        shift = self.starts[k] + low  # element i's offsets: offsets[i - shift], the next
        first = offsets[0]
        return [data[offsets[i - shift] - first : offsets[i - shift + 1] - first] for i in run]

    def _range(self, k: int, start: int, stop: int) -> bytes:
        """Bytes ``start:stop`` of chunk ``k``, from checked blocks (the last few cached)."""
        relative, _, size, tags = self.chunks[k]
        first, last = start // BLOCK, max(stop - 1, start) // BLOCK
        cache = self.objects.blocks
        parts = [cache.get((relative, b)) for b in range(first, last + 1)]
        if any(part is None for part in parts):
            # One read for all the blocks (a large element spans many), then one check each.
            path = self._path(k)
            try:
                data = self.objects.store.read_range(
                    path, first * BLOCK, min((last + 1) * BLOCK, size)
                )
            except FileNotFoundError:
                self._missing(k)
            what = f"{self.label}: chunk {path}"
            fix = self.objects.rerun_fix(self._layer)
            expected = min((last + 1) * BLOCK, size) - first * BLOCK
            if len(data) != expected:  # cut at a block boundary: the blocks left check fine
                raise CorruptObjectError(
                    f"{what} is damaged: it ends before byte {first * BLOCK + expected} "
                    f"(its commit recorded {size} bytes; truncated). {fix}"
                )
            self.objects.seal.check_blocks(data, first, tags[: last + 1], what, fix)
            if last - first < 4:  # keep small reads for the next element; a big one is done
                for b in range(first, last + 1):
                    cache[(relative, b)] = data[(b - first) * BLOCK : (b - first + 1) * BLOCK]
                while len(cache) > 16:  # bounded memory (1 MiB) for random reads
                    del cache[next(iter(cache))]
        else:
            data = b"".join(part for part in parts if part is not None)
        offset = first * BLOCK
        return data[start - offset : stop - offset]

    def _missing(self, k: int) -> NoReturn:
        raise ArtifactError(
            f"{self.label}: chunk {self._path(k)} is missing from the datastore. "
            f"{self.objects.rerun_fix(self._layer)}"
        )

    def _check(self, k: int, data: bytes | None) -> bytes:
        if data is None:
            self._missing(k)
        _, _, size, tags = self.chunks[k]
        what = f"{self.label}: chunk {self._path(k)}"
        fix = self.objects.rerun_fix(self._layer)
        self.objects.seal.check_blocks(data, 0, tags, what, fix)
        if len(data) != size:  # a block boundary truncation passes the block checks
            raise CorruptObjectError(
                f"{what} is damaged: {len(data)} bytes, its commit recorded {size}. {fix}"
            )
        return data

    def get_many(self, indices: Sequence[int]) -> list[Any]:
        if len(indices) <= 8:
            return [self.get(i) for i in indices]
        wanted = set(indices)
        needed = sorted({bisect.bisect_right(self.starts, i) - 1 for i in wanted})
        found: dict[int, Any] = {}
        step = 1 if self.objects.store.local else 4  # a few chunks fetched concurrently
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
        datas = self.objects.store.read_many([self._path(k) for k in ks])
        return [
            list(chunks.iter_chunk(self._check(k, data))) for k, data in zip(ks, datas, strict=True)
        ]

    def iterate(self) -> Iterator[Any]:
        # One chunk in memory at a time locally; a small concurrent batch on remote stores.
        step = 1 if self.objects.store.local else 4
        for first in range(0, len(self.chunks), step):
            for values in self._read_chunks(range(first, min(first + step, len(self.chunks)))):
                yield from values


class JoinSource:
    """Attribute ``attribute`` of every task of a ForEach layer, in task order.

    ``tasks`` lists the tasks that finished when some may not have (skipped by an entry hook,
    or caught): the join then holds those only, element ``i`` being the ``i``-th of them.
    """

    def __init__(
        self,
        commits: Commits,
        decode: Decode,
        layer: str,
        attribute: str,
        count: int,
        tasks: Sequence[int] | None = None,
    ) -> None:
        self.commits = commits
        self.decode = decode
        self.layer = layer
        self.attribute = attribute
        self.tasks = None if tasks is None else tuple(int(t) for t in tasks)
        self.count = count if self.tasks is None else len(self.tasks)
        self.label = f"{layer}.{attribute}"

    def __len__(self) -> int:
        return self.count

    def describe(self) -> tuple[Any, ...]:
        if self.tasks is None:
            return (JOIN, self.layer, self.attribute, self.count)
        return (JOIN, self.layer, self.attribute, self.count, self.tasks)

    def task(self, index: int) -> int:
        """The task number of element ``index``."""
        return index if self.tasks is None else self.tasks[index]

    def _value(self, task: int, manifest: Manifest | None) -> Any:
        if manifest is None:
            raise ExecutionError(
                f"{self.label}: task {task} of {self.layer} has no committed results in "
                f"execution {self.commits.objects.id}."
            )
        if not manifest.finished:
            raise ExecutionError(
                f"{self.label}: task {task} of {self.layer} did not finish ({manifest.reason})."
            )
        try:
            entry = manifest.attributes[self.attribute]
        except KeyError:
            known = ", ".join(sorted(manifest.attributes)) or "nothing"
            raise ArtifactError(
                f"{self.layer} task {task} never set self.{self.attribute} (it set: {known})."
            ) from None
        return self.decode(entry, f"{self.label}[{task}]")

    def get(self, index: int) -> Any:
        task = self.task(index)
        return self._value(task, self.commits.read_manifest(self.layer, str(task)))

    def get_many(self, indices: Sequence[int]) -> list[Any]:
        out: list[Any] = []
        for first in range(0, len(indices), BATCH):
            batch = [self.task(i) for i in indices[first : first + BATCH]]
            manifests = self.commits.read_manifests(self.layer, [str(i) for i in batch])
            out.extend(self._value(i, m) for i, m in zip(batch, manifests, strict=True))
        return out

    def iterate(self) -> Iterator[Any]:
        for first in range(0, self.count, BATCH):
            yield from self.get_many(range(first, min(first + BATCH, self.count)))
