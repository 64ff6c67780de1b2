"""Which plans are made at the end of the job before them, instead of by a job of their own.

Every orchestrator unit costs a start (a pod, a scheduler hop, a billed runner), so a fan-out
(or a layer's entry hooks) whose plan needs only what one job has just committed is planned
at the end of that job (``laminar task --then-plan``), on every target that can read the
legs from it (``Traits.fuse_plans``). Decided here once; dialects only read ``Job.plan``.
"""

from __future__ import annotations

from laminar.backends.sizing import sizes_pods
from laminar.backends.traits import Traits
from laminar.ir import FlowIR, LayerSpec
from laminar.ir.branching import decides


def planned(spec: LayerSpec, traits: Traits) -> bool:
    """Whether the layer has a plan: a ForEach layer, one whose entry hooks decide where the
    target skips jobs itself (its gates read the plan's legs; where the shim says a skip by
    its exit status, Airflow, the layer's own task runs its hooks first), or, where the target
    sizes pods, one whose hooks decide its resources (``backends/sizing.py``)."""
    return spec.is_foreach or (spec.has_entry and traits.native_skips) or sizes_pods(spec, traits)


def leaders(ir: FlowIR, traits: Traits) -> dict[str, str]:
    """Planned layer -> the layer whose plan gives its legs: itself, or the first of the
    layers it follows 1:1 (``LayerSpec.follows``: no plan of its own)."""
    leader: dict[str, str] = {}
    for spec in ir.specs():  # run order: a leader's own leader is known first
        if planned(spec, traits):
            leader[spec.name] = spec.name if spec.follows is None else leader[spec.follows]
    return leader


def fused_plans(ir: FlowIR, waits: dict[str, tuple[str, ...]], traits: Traits) -> dict[str, str]:
    """Planned layer -> the upstream whose job plans it (see ``apart``)."""
    fused: dict[str, str] = {}
    for spec in ir.specs():
        if planned(spec, traits) and apart(ir, spec, waits, traits, fused) is None:
            fused[spec.name] = spec.dependencies[0]
    return fused


def apart(
    ir: FlowIR,
    spec: LayerSpec,
    waits: dict[str, tuple[str, ...]],
    traits: Traits,
    fused: dict[str, str],
) -> str | None:
    """Why planned layer ``spec`` needs a planning unit of its own; ``None`` when the job of
    its upstream plans it (``fused``: the plans decided so far, in run order).

    Where its only upstream runs once, and always runs (it waits on no decision), the plan
    needs nothing that upstream's job has not just committed. Entry hooks are the user's
    code: they are planned there only when that job has the layer's own container. Where a
    job's outputs all go to one file (``$LAMINAR_OUTPUT``'s XCom, ``$GITHUB_OUTPUT``'s fixed
    ``legs``/``matrix`` lines), a job plans one fan-out at most: the first in run order.
    Where the shim says a skip by its exit status (no native skips), an upstream that may end
    not finished (``Catch``, entry hooks) plans nothing: its task ends skipped before the
    orchestrator reads the legs.
    """
    if not traits.fuse_plans:
        return "the target plans every layer apart"
    if len(spec.dependencies) != 1:
        return "it reads several layers, which may finish in any order"
    upstream = ir.spec(spec.dependencies[0])
    if planned(upstream, traits):
        return f"its upstream {upstream.name} is planned itself (legs, or entry hooks)"
    if waits[upstream.name] or (not traits.native_skips and decides(upstream)):
        return f"its upstream {upstream.name} may be skipped"
    sizing = sizes_pods(spec, traits)
    if sizing and traits.outputs_share_file:
        return "its plan's one output carries its pods' resources with the legs (--format sized)"
    if (spec.has_entry or sizing) and spec.settings.container != upstream.settings.container:
        return f"its hooks run in its own container, not {upstream.name}'s"
    if traits.outputs_share_file and upstream.name in fused.values():
        return f"{upstream.name}'s job already plans a fan-out (one output file per job)"
    return None
