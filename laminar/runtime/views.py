"""What a task receives: one read-only view per upstream layer, with this task's elements.

A view is an instance of the upstream layer's class whose attributes are read lazily from the
datastore (``context.UpstreamReader``). In a ForEach task, the attributes it fans out over are
bound to this task's elements; an upstream it maps onto 1:1 (``Parameter(index=None)``) is
that one task, every attribute its own. Hooks take views the same way ``__call__`` does.
"""

from __future__ import annotations

from typing import Any

from laminar.ir import FlowIR, LayerSpec
from laminar.model.layer import Layer
from laminar.model.parameters import PARAMETERS
from laminar.runtime.context import UpstreamReader
from laminar.runtime.fanout import positions
from laminar.runtime.inputs import parameters_view
from laminar.store.execution import Execution, PlanRecord


def task_views(
    ir: FlowIR,
    execution: Execution,
    inputs: dict[str, Any] | None,
    spec: LayerSpec,
    index: int | None,
    plan: PlanRecord | None,
) -> dict[str, Layer]:
    """Upstream layer name -> its view, for task ``index`` of ``spec``; ``inputs`` are the
    execution's (given when ``spec.reads_inputs``)."""
    elements = positions(plan, index) if (plan is not None and index is not None) else {}
    mapped_onto = {layer: position for (layer, _), (position, m) in elements.items() if m}
    views: dict[str, Layer] = {}
    if spec.reads_inputs:
        views[PARAMETERS] = parameters_view(inputs or {}, spec.name, ir.inputs)
    for upstream_name in spec.dependencies:
        upstream = ir.spec(upstream_name)
        cls = ir.classes[upstream_name]
        view = cls.__new__(cls)
        task = mapped_onto.get(upstream_name)
        view.__dict__["_laminar_reader"] = UpstreamReader(
            execution, view, upstream, spec.name, task
        )
        for (layer, attribute), (position, mapped) in elements.items():
            if layer == upstream_name and not mapped:
                view.__dict__[attribute] = element(execution, upstream, attribute, position)
        views[upstream_name] = view
    return views


def arguments_of(views: dict[str, Layer], arguments: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """The keyword arguments of ``__call__`` or a hook, from the task's views."""
    return {argument: views[upstream] for argument, upstream in arguments}


def element(execution: Execution, upstream: LayerSpec, attribute: str, position: int) -> Any:
    """Element ``position`` of ``upstream.attribute``: of a ForEach layer's join, or of a
    sharded attribute."""
    if upstream.is_foreach:
        task = position
        plan = execution.commits.read_plan(upstream.name)
        if plan is not None and plan.sparse:
            task = execution.finished_tasks(upstream.name, plan.count)[position]
        entry = execution.entry(upstream.name, str(task), attribute, reader="")
        return execution.codec.decode(entry, f"{upstream.name}.{attribute}[{task}]")
    whole = execution.attribute(upstream.name, attribute, reader="", foreach=False)
    return whole[position]
