"""ForEach arithmetic: how many tasks a layer has, and which elements task ``i`` receives.

Each sharded parameter (a ``shard()`` attribute, an Accessor, or the join of a ForEach layer)
is one axis of a grid; every ``Parameter(index=None)`` together forms one axis that maps
1:1 onto the upstream ForEach tasks. Parameters that are not sharded are passed whole and
add no axis. Task ``i`` decomposes into one position per axis, the first axis varying
fastest, which is the seed's grid order: (1,"a"), (2,"a"), (3,"a"), (1,"b"), ...
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from laminar.errors import ExecutionError
from laminar.ir import FlowIR, LayerSpec
from laminar.store.execution import MAIN, REF, Execution, PlanRecord
from laminar.store.sources import SHARD


def plan_fanout(ir: FlowIR, execution: Execution, spec: LayerSpec) -> PlanRecord:
    """Count ``spec``'s tasks from its upstream artifacts (legs are set by the caller)."""
    axes: list[tuple[int, tuple[tuple[str, str, bool], ...]]] = []
    mapped_axis: int | None = None
    mapped_sizes: dict[str, int] = {}
    for param in spec.foreach:
        upstream = ir.spec(param.layer)
        if param.mapped:
            size = _task_count(execution, spec, param.layer)
            mapped_sizes[param.layer] = size
            entry = (param.layer, param.attribute, True)
            _require_attribute(execution, spec, param.layer, param.attribute, foreach=True)
            if mapped_axis is None:
                mapped_axis = len(axes)
                axes.append((size, (entry,)))
            else:
                old_size, params = axes[mapped_axis]
                axes[mapped_axis] = (old_size, (*params, entry))
            continue
        if upstream.is_foreach:
            _require_attribute(execution, spec, param.layer, param.attribute, foreach=True)
            size = _task_count(execution, spec, param.layer, joined=True)
            axes.append((size, ((param.layer, param.attribute, False),)))
            continue
        stored = execution.entry(param.layer, MAIN, param.attribute, reader=spec.name)
        if stored[0] in (SHARD, REF):
            size = len(execution.codec.decode(stored, f"{param.layer}.{param.attribute}"))
            axes.append((size, ((param.layer, param.attribute, False),)))
        # A plain value is passed whole to every task: no axis.
    if len(set(mapped_sizes.values())) > 1:
        sizes = ", ".join(f"{name} has {n}" for name, n in sorted(mapped_sizes.items()))
        raise ExecutionError(
            f"Layer {spec.name} maps 1:1 (index=None) onto ForEach layers with different task "
            f"counts ({sizes}). Map onto layers with equal counts, or drop index=None."
        )
    count = math.prod(size for size, _ in axes)
    return PlanRecord(count=count, legs=count, axes=tuple(axes))


def positions(plan: PlanRecord, index: int) -> dict[tuple[str, str], tuple[int, bool]]:
    """For task ``index``: (layer, attribute) -> (element position, mapped?)."""
    if not 0 <= index < plan.count:
        raise ExecutionError(f"task index {index} is out of range (0..{plan.count - 1}).")
    out: dict[tuple[str, str], tuple[int, bool]] = {}
    rest = index
    for size, params in plan.axes:
        rest, position = divmod(rest, size)
        for layer, attribute, mapped in params:
            out[(layer, attribute)] = (position, mapped)
    return out


def fanned_positions(
    plan: PlanRecord, indices: Sequence[int]
) -> dict[tuple[str, str], tuple[list[int], bool]]:
    """``positions`` for many tasks at once: (layer, attribute) -> (each task's element
    position, mapped?), one pass per axis instead of a dict per task."""
    for index in (min(indices), max(indices)) if indices else ():
        positions(plan, index)  # raises for an index out of range
    out: dict[tuple[str, str], tuple[list[int], bool]] = {}
    stride = 1
    for size, params in plan.axes:
        found = [index // stride % size for index in indices]
        for layer, attribute, mapped in params:
            out[(layer, attribute)] = (found, mapped)
        stride *= size
    return out


def _task_count(execution: Execution, spec: LayerSpec, layer: str, joined: bool = False) -> int:
    """How many tasks ``layer`` has; ``joined``: how many its join holds (those that
    finished, when some may not have)."""
    plan = execution.commits.read_plan(layer)
    if plan is None:
        raise ExecutionError(
            f"Layer {spec.name} fans out over {layer}, which has not been planned in execution "
            f"{execution.id}. Run {layer} first."
        )
    if joined and plan.sparse:
        return len(execution.finished_tasks(layer, plan.count))
    return plan.count


def _require_attribute(
    execution: Execution, spec: LayerSpec, layer: str, attribute: str, *, foreach: bool
) -> None:
    # Reading the attribute raises the "never set" error with the fix if it is missing.
    execution.attribute(layer, attribute, reader=spec.name, foreach=foreach)
