"""Reading an execution's artifacts back: ``laminar show`` and ``MyFlow.results(...)``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from laminar.contract import check_execution_id
from laminar.errors import ExecutionError
from laminar.store.accessor import Accessor
from laminar.store.datastore import Datastore, safe_key
from laminar.store.execution import MAIN, Execution
from laminar.text import printable

if TYPE_CHECKING:
    from laminar.ir import FlowIR
    from laminar.model.flow import Flow


def list_executions(store: Datastore, flow: str) -> list[str]:
    """Execution ids of ``flow`` in ``store``, oldest first."""
    base = store.path(safe_key(flow))
    found: list[tuple[float, str]] = []
    for directory in store.list_dirs(base):
        data = store.read_or_none(f"{base}/{directory}/execution.json")
        if data is not None:
            record = json.loads(data)
            found.append((float(record.get("created", 0)), str(record["execution"])))
    return [execution for _, execution in sorted(found)]


def open_execution(store: Datastore, flow: str, execution: str | None) -> Execution:
    """The named execution, or the latest one; a clear error when it does not exist."""
    if execution is not None:
        check_execution_id(execution, "execution")
    known = list_executions(store, flow)
    if execution is None:
        if not known:
            raise ExecutionError(
                f"No executions of {flow} in datastore {store.url}. Run the flow first "
                "(laminar run FLOW)."
            )
        execution = known[-1]
    handle = Execution(store, flow, execution)
    if not handle.exists():
        recent = ", ".join(printable(k) for k in known[-5:]) or "none"
        raise ExecutionError(
            f"Unknown execution {execution!r} of {flow} in datastore {store.url} "
            f"(recent: {recent})."
        )
    return handle


class LayerResults:
    """One layer's committed attributes; attributes read lazily, as downstream layers see them."""

    def __init__(self, ir: FlowIR, execution: Execution, layer: str) -> None:
        self._ir = ir
        self._execution = execution
        self._spec = ir.spec(layer)

    @property
    def name(self) -> str:
        return self._spec.name

    def attributes(self) -> list[str]:
        """Names of the attributes the layer set (from its first task for ForEach layers)."""
        if self._spec.is_foreach:
            plan = self._execution.read_plan(self.name)
            if plan is None or plan.count == 0:
                return []
            manifest = self._execution.read_manifest(self.name, "0")
        else:
            manifest = self._execution.read_manifest(self.name, MAIN)
        return sorted(manifest.attributes) if manifest is not None else []

    def tasks(self) -> int | None:
        """Number of ForEach tasks, or None for a layer without ForEach."""
        if not self._spec.is_foreach:
            return None
        plan = self._execution.read_plan(self.name)
        return plan.count if plan is not None else 0

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        return self._execution.attribute(
            self.name, attribute, reader="results", foreach=self._spec.is_foreach
        )


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
            out[name] = {a: materialize(getattr(layer, a)) for a in layer.attributes()}
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
