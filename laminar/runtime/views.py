"""What a task receives: one read-only view per upstream layer, with this task's elements.

A view is an instance of the upstream layer's class whose attributes are read lazily from the
datastore (``context.UpstreamReader``). In a ForEach task, the attributes it fans out over are
bound to this task's elements. Hooks take views the same way ``__call__`` does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from laminar.ir import LayerSpec
from laminar.model.layer import Layer
from laminar.model.parameters import PARAMETERS
from laminar.runtime.context import UpstreamReader
from laminar.runtime.decisions import task_state
from laminar.runtime.fanout import positions
from laminar.runtime.inputs import parameters_view
from laminar.store.execution import PlanRecord

if TYPE_CHECKING:
    from laminar.runtime.task import Runtime


def task_views(
    runtime: Runtime, spec: LayerSpec, index: int | None, plan: PlanRecord | None
) -> dict[str, Layer]:
    """Upstream layer name -> its view, for task ``index`` of ``spec``."""
    elements = positions(plan, index) if (plan is not None and index is not None) else {}
    views: dict[str, Layer] = {}
    if spec.reads_inputs:
        views[PARAMETERS] = parameters_view(runtime.inputs(), spec.name)
    for upstream_name in spec.dependencies:
        upstream = runtime.ir.spec(upstream_name)
        cls = runtime.ir.classes[upstream_name]
        view = cls.__new__(cls)
        reader = UpstreamReader(runtime, view, upstream, spec.name)
        view.__dict__["_laminar_reader"] = reader
        for (layer, attribute), (position, mapped) in elements.items():
            if layer != upstream_name:
                continue
            if mapped and runtime.ir.branches:
                ended = task_state(runtime, layer, position)
                if not ended.finished:
                    # Only a layer with an entry hook runs after a task that did not finish;
                    # reading this element then says why it is missing.
                    reader.missing[attribute] = f"task {position}: {ended.reason}"
                    continue
            view.__dict__[attribute] = element(runtime, upstream, attribute, position, mapped)
        views[upstream_name] = view
    return views


def arguments_of(views: dict[str, Layer], arguments: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """The keyword arguments of ``__call__`` or a hook, from the task's views."""
    return {argument: views[upstream] for argument, upstream in arguments}


def element(
    runtime: Runtime, upstream: LayerSpec, attribute: str, position: int, mapped: bool
) -> Any:
    """Element ``position`` of ``upstream.attribute``: of a ForEach layer's join (task
    ``position`` itself when ``mapped``), or of a sharded attribute."""
    execution = runtime.execution
    if upstream.is_foreach:
        task = position
        if not mapped:
            plan = execution.commits.read_plan(upstream.name)
            if plan is not None and plan.sparse:
                task = execution.finished_tasks(upstream.name, plan.count)[position]
        entry = execution.entry(upstream.name, str(task), attribute, reader="")
        return execution.codec.decode(entry, f"{upstream.name}.{attribute}[{task}]")
    whole = execution.attribute(upstream.name, attribute, reader="", foreach=False)
    return whole[position]
