"""One execution's artifacts: manifests (commits), plans, values and shards.

This module knows the layout inside an execution and how attribute values are encoded.
Everything that reads or writes an artifact (the runtime, the executor, ``laminar show``)
goes through ``Execution``, so a local run performs exactly the reads and writes of a
deployed one.
"""

from __future__ import annotations

import bisect
import json
import pickle
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import cloudpickle

from laminar import chunks
from laminar.accessor import Accessor
from laminar.datastore import Datastore, safe_key, unique_name
from laminar.errors import ArtifactError, ExecutionError

#: Values whose pickle is smaller than this live inside the manifest: one write per task.
INLINE_BYTES = 64 * 1024
#: How many manifests or chunks a join or iteration fetches in one concurrent batch.
BATCH = 256
MAIN = "main"

# Entry kinds in a manifest.
VALUE, FILE, SHARD, REF = "value", "file", "shard", "ref"


@dataclass(frozen=True)
class PlanRecord:
    """A ForEach layer's committed plan: how many tasks, split into how many legs, and how."""

    count: int
    legs: int
    #: One entry per grid axis, first varying fastest: (size, ((layer, attribute, mapped), ...)).
    axes: tuple[tuple[int, tuple[tuple[str, str, bool], ...]], ...] = ()

    def leg_indices(self, leg: int) -> range:
        if not 0 <= leg < max(self.legs, 1) or self.legs == 0:
            raise ExecutionError(f"leg {leg} is out of range: this plan has {self.legs} legs.")
        return range(leg * self.count // self.legs, (leg + 1) * self.count // self.legs)

    def to_json(self) -> bytes:
        axes = [[size, [list(p) for p in params]] for size, params in self.axes]
        return json.dumps({"count": self.count, "legs": self.legs, "axes": axes}).encode()

    @classmethod
    def from_json(cls, data: bytes) -> PlanRecord:
        raw = json.loads(data)
        axes = tuple(
            (int(size), tuple((str(p[0]), str(p[1]), bool(p[2])) for p in params))
            for size, params in raw["axes"]
        )
        return cls(count=int(raw["count"]), legs=int(raw["legs"]), axes=axes)


@dataclass
class Manifest:
    layer: str
    task: str
    attributes: dict[str, tuple[str, Any]] = field(default_factory=dict)


class Execution:
    """The artifacts of one execution of one flow in one datastore."""

    def __init__(self, store: Datastore, flow: str, execution: str) -> None:
        self.store = store
        self.flow = flow
        self.id = execution
        self.base = store.path(safe_key(flow), safe_key(execution))
        self._manifests: dict[tuple[str, str], Manifest | None] = {}
        self._created = False

    # -- paths -----------------------------------------------------------------------------
    def _layer(self, layer: str, *parts: str) -> str:
        return "/".join([self.base, safe_key(layer), *parts])

    def manifest_path(self, layer: str, task: str) -> str:
        return self._layer(layer, "tasks", f"{task}.manifest")

    def plan_path(self, layer: str) -> str:
        return self._layer(layer, "plan.json")

    def new_attempt_dir(self, layer: str, task: str) -> str:
        """A directory private to one attempt, relative to the execution directory."""
        return f"{safe_key(layer)}/data/{task}/{unique_name()}"

    def absolute(self, relative: str) -> str:
        return f"{self.base}/{relative}"

    # -- the execution record --------------------------------------------------------------
    def ensure_created(self) -> None:
        if self._created:  # once per process, not once per task
            return
        path = f"{self.base}/execution.json"
        if not self.store.exists(path):
            record = {"flow": self.flow, "execution": self.id, "created": time.time()}
            self.store.write_atomic(path, json.dumps(record).encode())
        self._created = True

    def exists(self) -> bool:
        return self.store.exists(f"{self.base}/execution.json")

    # -- plans -----------------------------------------------------------------------------
    def read_plan(self, layer: str) -> PlanRecord | None:
        data = self.store.read_or_none(self.plan_path(layer))
        return PlanRecord.from_json(data) if data is not None else None

    def write_plan(self, layer: str, plan: PlanRecord) -> None:
        self.store.write_atomic(self.plan_path(layer), plan.to_json())

    # -- manifests -------------------------------------------------------------------------
    def is_committed(self, layer: str, task: str) -> bool:
        if self._manifests.get((layer, task)) is not None:
            return True
        return self.store.exists(self.manifest_path(layer, task))

    def committed_tasks(self, layer: str) -> set[str]:
        """The tasks of ``layer`` committed now, from one directory listing (not a stat each)."""
        suffix = ".manifest"
        names = self.store.list_files(self._layer(layer, "tasks"))
        return {n[: -len(suffix)] for n in names if n.endswith(suffix) and not n.startswith(".")}

    def read_manifest(self, layer: str, task: str) -> Manifest | None:
        key = (layer, task)
        if key not in self._manifests or self._manifests[key] is None:
            data = self.store.read_or_none(self.manifest_path(layer, task))
            self._manifests[key] = _load_manifest(data) if data is not None else None
        return self._manifests[key]

    def read_manifests(self, layer: str, tasks: Sequence[str]) -> list[Manifest | None]:
        paths = [self.manifest_path(layer, t) for t in tasks]
        found = self.store.read_many(paths)
        return [_load_manifest(d) if d is not None else None for d in found]

    def commit(self, manifest: Manifest) -> None:
        """Write the manifest last and atomically: from now on the task's outputs exist."""
        data = pickle.dumps(
            {"layer": manifest.layer, "task": manifest.task, "attributes": manifest.attributes},
            protocol=pickle.HIGHEST_PROTOCOL,
        )
        self.store.write_atomic(self.manifest_path(manifest.layer, manifest.task), data)
        self._manifests[(manifest.layer, manifest.task)] = manifest

    # -- encoding values -------------------------------------------------------------------
    def encode(self, layer: str, attribute: str, value: Any, attempt: str) -> tuple[str, Any]:
        """Store ``value`` and return its manifest entry."""
        if isinstance(value, Accessor):
            return (REF, value.source.describe())
        try:
            data = cloudpickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as error:
            raise ArtifactError(
                f"Layer {layer} set self.{attribute} to a value that cannot be stored "
                f"({type(value).__name__}: {error}). Store picklable values, or keep "
                f"it private to the run by naming it self._{attribute}."
            ) from error
        if len(data) <= INLINE_BYTES:
            return (VALUE, data)
        relative = f"{attempt}/{safe_key(attribute)}.value"
        self.store.write(self.absolute(relative), data)
        return (FILE, relative)

    def write_shard(
        self, layer: str, attribute: str, values: Iterable[Any], attempt: str
    ) -> tuple[str, Any]:
        def on_error(position: int, error: Exception) -> Exception:
            return ArtifactError(
                f"Layer {layer}: element {position} of self.shard({attribute}=...) cannot be "
                f"stored ({error}). Shard picklable values."
            )

        def name(k: int) -> str:
            return f"{attempt}/{safe_key(attribute)}.{k:06d}.chunk"

        def write(relative: str, data: bytes) -> None:
            self.store.write(self.absolute(relative), data)

        infos = chunks.write_chunks(values, write, name, on_error)
        return (SHARD, tuple((c.path, c.count) for c in infos))

    def decode(self, entry: tuple[str, Any], label: str) -> Any:
        kind, payload = entry
        if kind == VALUE:
            return pickle.loads(payload)
        if kind == FILE:
            return pickle.loads(self.store.read(self.absolute(payload)))
        if kind == SHARD:
            return Accessor(ShardSource(self, payload, label))
        if kind == REF:
            return Accessor(self.source_from(payload, label))
        raise ArtifactError(f"Unknown artifact entry {kind!r} for {label}.")  # pragma: no cover

    def source_from(self, description: tuple[Any, ...], label: str) -> ShardSource | JoinSource:
        if description[0] == SHARD:
            return ShardSource(self, description[1], label)
        _, layer, attribute, count = description
        return JoinSource(self, layer, attribute, count)

    # -- reading attributes ----------------------------------------------------------------
    def attribute(self, layer: str, attribute: str, *, reader: str, foreach: bool) -> Any:
        """``layer.attribute`` as a downstream layer ``reader`` sees it."""
        if foreach:
            plan = self.read_plan(layer)
            if plan is None:
                raise ExecutionError(
                    f"Layer {reader} read {layer}.{attribute}, but {layer} has not run in "
                    f"execution {self.id}."
                )
            if plan.count:
                self.entry(layer, "0", attribute, reader=reader)
            return Accessor(JoinSource(self, layer, attribute, plan.count))
        return self.decode(
            self.entry(layer, MAIN, attribute, reader=reader), f"{layer}.{attribute}"
        )

    def entry(self, layer: str, task: str, attribute: str, *, reader: str) -> tuple[str, Any]:
        manifest = self.read_manifest(layer, task)
        if manifest is None:
            where = "" if task == MAIN else f" task {task}"
            raise ExecutionError(
                f"Layer {reader} read {layer}.{attribute}, but {layer}{where} has not "
                f"committed results in execution {self.id}. Run {layer} first."
            )
        try:
            return manifest.attributes[attribute]
        except KeyError:
            known = ", ".join(sorted(manifest.attributes)) or "nothing"
            raise ArtifactError(
                f"Layer {reader} read {layer}.{attribute}, but {layer} never set "
                f"self.{attribute} (it set: {known}). Set self.{attribute} in "
                f"{layer}.__call__, or read one of those."
            ) from None


def _load_manifest(data: bytes) -> Manifest:
    raw = pickle.loads(data)
    return Manifest(layer=raw["layer"], task=raw["task"], attributes=raw["attributes"])


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
        found: dict[int, Any] = {}
        for k, (start, (_, count)) in enumerate(zip(self.starts, self.chunks, strict=True)):
            if any(start <= i < start + count for i in wanted):
                for offset, value in enumerate(self._read_chunks([k])[0]):
                    if start + offset in wanted:
                        found[start + offset] = value
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
        return ("join", self.layer, self.attribute, self.count)

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
