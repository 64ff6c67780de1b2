"""One execution's artifacts, behind one facade: the record, plans, commits and values.

Everything that reads or writes an artifact (the runtime, the executor, ``laminar show``)
goes through an ``Execution``, so a local run performs exactly the reads and writes of a
deployed one. The facade only composes its parts and answers what needs more than one of
them (a layer's attribute as a downstream layer reads it, the lease around commits); each part
is reached as an attribute and does its own work:

* ``layout``: every path; ``objects``: the datastore, layout and seal, with checked reads;
* ``commits``: manifests, commit groups and plans (``execution.commits.read_plan(...)``);
* ``codec``: values <-> manifest entries (``execution.codec.encode(...)``).

The parts get what they need when they are made and never reach back up to the facade.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from laminar.errors import ArtifactError, ExecutionError, NotFinishedError
from laminar.store.accessor import Accessor
from laminar.store.codec import FILE, REF, VALUE, Codec, Entry
from laminar.store.commits import MAIN, Commits, Manifest, PlanRecord, TaskGroup
from laminar.store.datastore import Datastore
from laminar.store.files import AlreadyCommitted
from laminar.store.integrity import CorruptObjectError, Seal
from laminar.store.layout import Layout
from laminar.store.lease import Lease
from laminar.store.objects import Objects
from laminar.store.records import CAUGHT, FINISHED, SKIPPED
from laminar.store.sources import SHARD

__all__ = [
    "CAUGHT",
    "FILE",
    "FINISHED",
    "MAIN",
    "REF",
    "SHARD",
    "SKIPPED",
    "VALUE",
    "DamagedRecordError",
    "Execution",
    "Manifest",
    "PlanRecord",
    "TaskGroup",
]


class DamagedRecordError(CorruptObjectError):
    """An ``execution.json`` is empty or not JSON."""


class Execution:
    """The artifacts of one execution of one flow in one datastore."""

    def __init__(
        self,
        store: Datastore,
        flow: str,
        execution: str,
        *,
        seal: Seal | None = None,
        protocols: Mapping[str, Any] | None = None,
    ) -> None:
        self.store = store
        self.flow = flow
        self.id = execution
        self.layout = Layout(store, flow, execution)
        self.seal = seal or Seal.from_environment()
        self.objects = Objects(store, self.layout, self.seal)
        self.commits = Commits(self.objects)
        self.codec = Codec(self.objects, self.commits, protocols)
        #: Held by ``laminar run`` on local stores; commits stop if it was taken over.
        self.lease: Lease | None = None
        self._created = False
        #: The finished tasks of sparse ForEach layers, read once.
        self._finished: dict[str, tuple[int, ...]] = {}

    # -- the execution record --------------------------------------------------------------
    def ensure_created(self) -> None:
        """Write ``execution.json`` unless it exists; a damaged one is written again."""
        if self._created:  # once per process, not once per task
            return
        path = self.layout.record()
        data = self.store.read_or_none(path)
        if data is None or _parse_record(data) is None:
            record = {"flow": self.flow, "execution": self.id, "created": time.time()}
            with contextlib.suppress(AlreadyCommitted):  # another process created it first
                self.store.write_atomic(path, json.dumps(record).encode(), exclusive=data is None)
        self._created = True

    def exists(self) -> bool:
        return self.store.exists(self.layout.record())

    def record(self) -> dict[str, Any]:
        """The execution record; ``DamagedRecordError`` when it is empty or not JSON."""
        path = self.layout.record()
        data = self.store.read(path)
        record = _parse_record(data)
        if record is None:
            raise DamagedRecordError(
                f"The record of execution {self.id} of {self.flow} ({path}) is damaged "
                f"({len(data)} bytes, not JSON). Resume the execution to write it again: "
                f"laminar run FLOW --execution {self.id}"
            )
        return record

    # -- commits (under the lease) --------------------------------------------------------
    def is_committed(self, layer: str, task: str) -> bool:
        return self.commits.read_manifest(layer, task) is not None

    def commit(self, manifest: Manifest) -> bool:
        """Commit one task (``Commits.commit``), once the lease is known to be still ours."""
        if self.lease is not None:
            self.lease.check()
        return self.commits.commit(manifest)

    def commit_group(self, manifests: Sequence[Manifest]) -> None:
        """Commit consecutive tasks at once (``Commits.commit_group``), under the lease."""
        if self.lease is not None:
            self.lease.check()
        self.commits.commit_group(manifests)

    def invalidate(self, layers: Iterable[str]) -> None:
        """Delete the plans, commits and values of ``layers``, so they run again."""
        for layer in layers:
            self.store.remove_tree(self.layout.layer_dir(layer))
            self.commits.forget(layer)
            self._finished.pop(layer, None)

    def finished_tasks(self, layer: str, count: int) -> tuple[int, ...]:
        """The tasks of ForEach layer ``layer`` (of ``count``) that finished, in order; read
        from their commits (in batches) once all are committed."""
        if layer not in self._finished:
            found: list[int] = []
            for first in range(0, count, 1024):
                tasks = [str(i) for i in range(first, min(first + 1024, count))]
                manifests = self.commits.read_manifests(layer, tasks)
                for task, manifest in zip(tasks, manifests, strict=True):
                    if manifest is None:
                        raise ExecutionError(
                            f"Layer {layer} task {task} has not committed results in "
                            f"execution {self.id}. Run {layer} first."
                        )
                    if manifest.finished:
                        found.append(int(task))
            self._finished[layer] = tuple(found)
        return self._finished[layer]

    # -- reading attributes ----------------------------------------------------------------
    def attribute(self, layer: str, attribute: str, *, reader: str, foreach: bool) -> Any:
        """``layer.attribute`` as a downstream layer ``reader`` sees it."""
        if foreach:
            plan = self.commits.read_plan(layer)
            if plan is None:
                raise ExecutionError(
                    f"{reading(reader)} {layer}.{attribute}, but {layer} has not run in "
                    f"execution {self.id}."
                )
            if plan.skipped:
                raise not_finished(reader, layer, attribute, plan.skipped)
            tasks = self.finished_tasks(layer, plan.count) if plan.sparse else None
            first = tasks[0] if tasks else (0 if tasks is None and plan.count else None)
            if first is not None:
                self.entry(layer, str(first), attribute, reader=reader)
            return Accessor(self.codec.join(layer, attribute, plan.count, tasks))
        return self.codec.decode(
            self.entry(layer, MAIN, attribute, reader=reader), f"{layer}.{attribute}"
        )

    def stored_names(self, layer: str, *, foreach: bool) -> frozenset[str]:
        """The attributes ``layer`` stored (a ForEach layer's, from its first finished task)."""
        if foreach:
            plan = self.commits.read_plan(layer)
            if plan is None or plan.count == 0:
                return frozenset()
            tasks = self.finished_tasks(layer, plan.count) if plan.sparse else (0,)
            if not tasks:
                return frozenset()
            manifest = self.commits.read_manifest(layer, str(tasks[0]))
        else:
            manifest = self.commits.read_manifest(layer, MAIN)
        if manifest is None or not manifest.finished:
            return frozenset()
        return frozenset(manifest.attributes)

    def entry(self, layer: str, task: str, attribute: str, *, reader: str) -> Entry:
        manifest = self.commits.read_manifest(layer, task)
        if manifest is None:
            where = "" if task == MAIN else f" task {task}"
            raise ExecutionError(
                f"{reading(reader)} {layer}.{attribute}, but {layer}{where} has not "
                f"committed results in execution {self.id}. Run {layer} first."
            )
        if not manifest.finished:
            raise not_finished(reader, layer, attribute, manifest.reason)
        try:
            return manifest.attributes[attribute]
        except KeyError:
            known = ", ".join(sorted(manifest.attributes)) or "nothing"
            raise ArtifactError(
                f"{reading(reader)} {layer}.{attribute}, but {layer} never set "
                f"self.{attribute} (it set: {known}). Set self.{attribute} in "
                f"{layer}.__call__, or read one of those."
            ) from None


def reading(reader: str) -> str:
    """How a read error starts: "Layer B read" in a layer, "Reading" from results ("")."""
    return f"Layer {reader} read" if reader else "Reading"


def not_finished(reader: str, layer: str, attribute: str, reason: str) -> NotFinishedError:
    """The error of reading ``layer.attribute`` when ``layer`` did not finish."""
    return NotFinishedError(
        f"{reading(reader)} {layer}.{attribute}, but {layer} did not finish ({reason}), so it "
        f"has no attributes. Check {layer}'s state.finished before reading them, as in "
        f"'if upstream.state.finished: ...' (a layer with an entry hook runs either way)."
    )


def _parse_record(data: bytes) -> dict[str, Any] | None:
    try:
        record = json.loads(data)
    except ValueError:
        return None
    return record if isinstance(record, dict) and "execution" in record else None
