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
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from laminar.errors import ArtifactError, ExecutionError
from laminar.pickling import cloudpickle
from laminar.store import chunks
from laminar.store.accessor import Accessor
from laminar.store.datastore import Datastore, safe_key, unique_name
from laminar.store.sources import SHARD, JoinSource, ShardSource

#: Values whose pickle is smaller than this live inside the manifest: one write per task.
INLINE_BYTES = 64 * 1024
MAIN = "main"
#: A TaskGroup commits at most this many tasks, or values, or this much work, at once.
GROUP_TASKS = 1000
GROUP_BYTES = 4 * 1024 * 1024
GROUP_SECONDS = 0.5

# Entry kinds in a manifest.
VALUE, FILE, REF = "value", "file", "ref"  # and SHARD, shared with laminar.store.sources


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
        self._manifests: dict[tuple[str, str], Manifest] = {}
        self._listing: dict[str, list[tuple[int, int, str]]] = {}
        self._group_cache: dict[tuple[str, str], dict[str, Manifest]] = {}
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
    # A task commits alone with ``tasks/<task>.manifest``, or, when a leg runs many small
    # tasks, with its neighbours in one ``tasks/<first>-<last>.group`` (see TaskGroup).
    # Readers look in both: first the task's own manifest, then the groups, found from a
    # listing of ``tasks/`` that is cached and refreshed when a task is not found.
    def is_committed(self, layer: str, task: str) -> bool:
        return self.read_manifest(layer, task) is not None

    def committed_tasks(self, layer: str) -> set[str]:
        """The tasks of ``layer`` committed now, from one directory listing (not a stat each)."""
        names = self.store.list_files(self._layer(layer, "tasks"))
        self._listing[layer] = _groups(names)
        done = {n[: -len(".manifest")] for n in names if n.endswith(".manifest")}
        for first, last, _ in self._listing[layer]:
            done.update(str(i) for i in range(first, last + 1))
        return {t for t in done if not t.startswith(".")}

    def read_manifest(self, layer: str, task: str) -> Manifest | None:
        key = (layer, task)
        if key not in self._manifests:
            found = self.read_manifests(layer, [task])[0]
            if found is None:
                return None
            self._manifests[key] = found
        return self._manifests[key]

    def read_manifests(self, layer: str, tasks: Sequence[str]) -> list[Manifest | None]:
        found = {t: m for t in tasks if (m := self._manifests.get((layer, t))) is not None}
        if layer in self._listing:  # groups known from an earlier listing: no listing now
            self._from_groups(layer, [t for t in tasks if t not in found], found, refresh=False)
        rest = [t for t in tasks if t not in found]
        if rest:
            datas = self.store.read_many([self.manifest_path(layer, t) for t in rest])
            found.update((t, _load_manifest(d)) for t, d in zip(rest, datas, strict=True) if d)
            rest = [t for t in rest if t not in found]
        if rest:
            self._from_groups(layer, rest, found, refresh=True)
        return [found.get(t) for t in tasks]

    def _from_groups(
        self, layer: str, tasks: list[str], found: dict[str, Manifest], *, refresh: bool
    ) -> None:
        numbers = [(t, int(t)) for t in tasks if t.isdigit()]
        if not numbers:
            return
        if refresh or layer not in self._listing:
            self._listing[layer] = _groups(self.store.list_files(self._layer(layer, "tasks")))
        groups = self._listing[layer]
        groups.sort()
        firsts = [first for first, _, _ in groups]
        wanted: dict[str, list[str]] = {}
        for task, number in numbers:
            k = bisect.bisect_right(firsts, number) - 1
            # The last group starting at or before the task; when groups overlap (two runs
            # of one execution racing, rare) an earlier one may hold it: look a few back.
            for first, last, name in groups[max(k - 7, 0) : k + 1][::-1]:
                if first <= number <= last:
                    wanted.setdefault(name, []).append(task)
                    break
        loaded = {n: g for n in wanted if (g := self._group_cache.get((layer, n))) is not None}
        todo = [n for n in wanted if n not in loaded]
        datas = self.store.read_many([self._layer(layer, "tasks", n) for n in todo])
        for name, data in zip(todo, datas, strict=True):
            if data is not None:
                loaded[name] = {raw["task"]: _manifest(raw) for raw in pickle.loads(data)}
                self._group_cache[(layer, name)] = loaded[name]
                while len(self._group_cache) > 2:  # bounded memory while iterating a join
                    del self._group_cache[next(iter(self._group_cache))]
        for name, group_tasks in wanted.items():
            group = loaded.get(name, {})
            found.update((t, group[t]) for t in group_tasks if t in group)

    def commit(self, manifest: Manifest) -> None:
        """Write the manifest last and atomically: from now on the task's outputs exist."""
        data = pickle.dumps(_raw(manifest), protocol=pickle.HIGHEST_PROTOCOL)
        self.store.write_atomic(self.manifest_path(manifest.layer, manifest.task), data)
        self._manifests[(manifest.layer, manifest.task)] = manifest

    def commit_group(self, manifests: Sequence[Manifest]) -> None:
        """Commit consecutive tasks of one layer with one atomic write instead of one each."""
        if len(manifests) == 1:
            self.commit(manifests[0])
            return
        layer, first, last = manifests[0].layer, int(manifests[0].task), int(manifests[-1].task)
        if [(m.layer, m.task) for m in manifests] != [
            (layer, str(i)) for i in range(first, last + 1)
        ]:
            raise ValueError("a commit group holds consecutive tasks of one layer")
        data = pickle.dumps([_raw(m) for m in manifests], protocol=pickle.HIGHEST_PROTOCOL)
        name = f"{first}-{last}.group"
        self.store.write_atomic(self._layer(layer, "tasks", name), data)
        self._listing.setdefault(layer, []).append((first, last, name))

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
    return _manifest(pickle.loads(data))


def _manifest(raw: dict[str, Any]) -> Manifest:
    return Manifest(layer=raw["layer"], task=raw["task"], attributes=raw["attributes"])


def _raw(manifest: Manifest) -> dict[str, Any]:
    return {"layer": manifest.layer, "task": manifest.task, "attributes": manifest.attributes}


_GROUP = re.compile(r"(\d+)-(\d+)\.group")


def _groups(names: Iterable[str]) -> list[tuple[int, int, str]]:
    """The commit groups among the file names of a ``tasks/`` directory."""
    found = [(int(m[1]), int(m[2]), n) for n in names if (m := _GROUP.fullmatch(n))]
    return sorted(found)


class TaskGroup:
    """Collects the manifests of consecutive tasks and commits them together.

    A fan-out of ten thousand trivial tasks would otherwise spend most of its time creating
    ten thousand manifest files (about a millisecond each on a busy disk). A group is written
    when it holds GROUP_TASKS tasks or GROUP_BYTES of values, when GROUP_SECONDS have passed
    since its first task, before a task that does not follow the previous one, and on
    ``flush()`` (the end of a leg, or a failing task). Tasks whose group was never written
    were not committed: a resumed run runs them again, as it would any crashed task.
    """

    def __init__(self, execution: Execution) -> None:
        self.execution = execution
        self.pending: list[Manifest] = []
        self.size = 0
        self.started = 0.0

    def add(self, manifest: Manifest) -> None:
        last = self.pending[-1] if self.pending else None
        if last is not None and (
            last.layer != manifest.layer or int(manifest.task) != int(last.task) + 1
        ):
            self.flush()
        if not self.pending:
            self.started = time.monotonic()
        self.pending.append(manifest)
        self.size += sum(len(v) for k, v in manifest.attributes.values() if k == VALUE)
        if (
            len(self.pending) >= GROUP_TASKS
            or self.size >= GROUP_BYTES
            or time.monotonic() - self.started >= GROUP_SECONDS
        ):
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.execution.commit_group(self.pending)
            self.pending = []
            self.size = 0
