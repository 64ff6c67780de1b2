"""Reading an execution's artifacts back: ``laminar show`` and ``MyFlow.results(...)``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from laminar.configurations import serde
from laminar.contract import check_execution_id
from laminar.errors import ExecutionError
from laminar.runtime.decisions import Ended, ended
from laminar.store.accessor import Accessor
from laminar.store.datastore import Datastore, safe_key
from laminar.store.execution import CAUGHT, MAIN, SKIPPED, Execution, PlanRecord
from laminar.store.layout import EXECUTION_RECORD
from laminar.text import printable

if TYPE_CHECKING:
    from laminar.ir import FlowIR, LayerSpec
    from laminar.model.flow import Flow


def list_executions(store: Datastore, flow: str) -> list[str]:
    """Execution ids of ``flow`` in ``store``, oldest first (damaged records are skipped:
    one bad ``execution.json`` must not hide every other execution)."""
    return [execution for _, execution in sorted(_records(store, flow)[0])]


def damaged_executions(store: Datastore, flow: str) -> list[str]:
    """Directories of ``flow`` whose ``execution.json`` is empty or not JSON."""
    return _records(store, flow)[1]


def _records(store: Datastore, flow: str) -> tuple[list[tuple[float, str]], list[str]]:
    base = store.path(safe_key(flow))
    found: list[tuple[float, str]] = []
    damaged: list[str] = []
    for directory in store.list_dirs(base):
        data = store.read_or_none(f"{base}/{directory}/{EXECUTION_RECORD}")
        if data is None:
            continue
        try:
            record = json.loads(data)
            found.append((float(record.get("created", 0)), str(record["execution"])))
        except (ValueError, KeyError, TypeError, AttributeError):
            damaged.append(directory)
    return found, damaged


def open_execution(store: Datastore, flow: str, execution: str | None) -> Execution:
    """The named execution, or the latest one; a clear error when it does not exist."""
    if execution is not None:
        check_execution_id(execution, "execution")
    known = list_executions(store, flow)
    if execution is None:
        if not known:
            raise ExecutionError(
                f"No executions of {flow} in datastore {store.shown}. Run the flow first "
                "(laminar run FLOW)."
            )
        execution = known[-1]
    handle = Execution(store, flow, execution, protocols=serde.PROTOCOLS)
    if not handle.exists():
        recent = ", ".join(printable(k) for k in known[-5:]) or "none"
        raise ExecutionError(
            f"Unknown execution {execution!r} of {flow} in datastore {store.shown} "
            f"(recent: {recent})."
        )
    return handle


class LayerResults:
    """One layer's committed attributes; attributes read lazily, as downstream layers see them.

    What the layer stored always wins: a layer that stored ``name``, ``tasks`` or
    ``attributes`` reads back those values. The methods stay reachable through the class
    (``LayerResults.attributes(layer)``), which is how laminar's own code calls them.
    """

    def __init__(self, ir: FlowIR, execution: Execution, layer: str) -> None:
        self._ir = ir
        self._execution = execution
        self._spec = ir.spec(layer)
        self._stored: list[str] | None = None

    def __getattribute__(self, attribute: str) -> Any:
        # Only a name the class itself defines needs the check (others reach __getattr__).
        shadowed = attribute[:1] != "_" and hasattr(LayerResults, attribute)
        if shadowed and attribute in LayerResults.attributes(self):
            return object.__getattribute__(self, "__getattr__")(attribute)
        return object.__getattribute__(self, attribute)

    @property
    def name(self) -> str:
        return self._spec.name

    @property
    def state(self) -> Ended:
        """``state.finished``: whether the layer finished (``state.reason`` says why not)."""
        return decided(self._ir, self._execution, self._spec.name)

    def attributes(self) -> list[str]:
        """Names of the attributes the layer set (from its first committed task for ForEach
        layers)."""
        if self._stored is None:
            self._stored = self._stored_names()
        return self._stored

    def _stored_names(self) -> list[str]:
        name = self._spec.name
        if self._spec.is_foreach:
            plan = self._execution.commits.read_plan(name)
            if plan is None or plan.skipped:
                return []
            done = sorted(
                int(t) for t in self._execution.commits.committed_tasks(name) if t.isdigit()
            )
            finished = (
                m for t in done if (m := self._execution.commits.read_manifest(name, str(t)))
            )
            manifest = next((m for m in finished if m.finished), None)
        else:
            manifest = self._execution.commits.read_manifest(name, MAIN)
        if manifest is None or not manifest.finished:
            return []
        return sorted(manifest.attributes)

    def tasks(self) -> int | None:
        """Number of planned ForEach tasks; None for a layer without ForEach or not planned."""
        name = self._spec.name
        plan = self._execution.commits.read_plan(name) if self._spec.is_foreach else None
        return plan.count if plan is not None else None

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        return self._execution.attribute(
            self._spec.name, attribute, reader="", foreach=self._spec.is_foreach
        )


def decided(ir: FlowIR, execution: Execution, layer: str) -> Ended:
    """How ``layer`` ended in ``execution``; not finished when it has not run."""
    state = ended(execution, layer, foreach=ir.spec(layer).is_foreach)
    return state if state is not None else Ended(False, "not run")


@dataclass(frozen=True)
class LayerSummary:
    """How far a layer got: what ``laminar show`` prints next to its name."""

    foreach: bool
    #: The planned task count (ForEach layers), None when never planned.
    planned: int | None
    #: Committed tasks (0 or 1 for a layer without ForEach).
    committed: int
    #: ``skipped (why)`` or ``caught ...`` for a layer that did not finish; else "".
    ended: str = ""
    #: Tasks of a ForEach layer that were skipped, and whose error was caught.
    skipped: tuple[int, ...] = ()
    caught: tuple[int, ...] = ()

    def __str__(self) -> str:
        if self.ended:
            return self.ended
        if not self.foreach:
            return "" if self.committed else "not run"
        if self.planned is None:
            return "not planned"
        if self.committed < self.planned:
            return f"{self.committed}/{self.planned} tasks committed"
        parts = [f"{self.planned} tasks"]
        for tasks, what in ((self.skipped, SKIPPED), (self.caught, CAUGHT)):
            if tasks:
                shown = ", ".join(str(t) for t in tasks[:10]) + (", ..." if len(tasks) > 10 else "")
                parts.append(f"{len(tasks)} {what} ({shown})")
        return ", ".join(parts)


def layer_summary(execution: Execution, spec: LayerSpec) -> LayerSummary:
    """How far ``spec`` got in ``execution``, task by task (what a downstream layer sees as
    ``state.finished`` is ``decisions.layer_state``)."""
    if not spec.is_foreach:
        manifest = execution.commits.read_manifest(spec.name, MAIN)
        why = ""
        if manifest is not None and not manifest.finished:
            why = f"{manifest.status}: {manifest.reason}"
        return LayerSummary(False, None, int(manifest is not None), why)
    plan: PlanRecord | None = execution.commits.read_plan(spec.name)
    if plan is None:
        return LayerSummary(True, None, 0)
    if plan.skipped:
        return LayerSummary(True, 0, 0, f"{SKIPPED}: {plan.skipped}")
    done = [
        t
        for t in execution.commits.committed_tasks(spec.name)
        if t.isdigit() and int(t) < plan.count
    ]
    by_status: dict[str, list[int]] = {SKIPPED: [], CAUGHT: []}
    if plan.sparse:
        done.sort(key=int)
        for manifest in execution.commits.read_manifests(spec.name, done):
            if manifest is not None and not manifest.finished:
                by_status[manifest.status].append(int(manifest.task))
    skipped, caught = tuple(by_status[SKIPPED]), tuple(by_status[CAUGHT])
    return LayerSummary(True, plan.count, len(done), "", skipped, caught)


class ExecutionResults:
    """``results["Layer"].attribute``: the artifacts of one execution."""

    def __init__(self, ir: FlowIR, execution: Execution) -> None:
        self.ir = ir
        self.execution = execution

    @property
    def id(self) -> str:
        return self.execution.id

    def __getitem__(self, layer: str) -> LayerResults:
        return LayerResults(self.ir, self.execution, layer)

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """Every attribute of every layer as plain Python values (Accessors as lists)."""
        out: dict[str, dict[str, Any]] = {}
        for name in self.ir.order:
            layer = self[name]
            stored = LayerResults.attributes(layer)
            out[name] = {a: materialize(getattr(layer, a)) for a in stored}
        return out


def materialize(value: Any) -> Any:
    if isinstance(value, Accessor):
        return [materialize(v) for v in value]
    return value


def open_results(
    flow: type[Flow], execution: str | None = None, datastore: str | None = None
) -> ExecutionResults:
    ir = flow.ir()
    return ExecutionResults(ir, open_execution(Datastore(datastore), ir.name, execution))
