"""Which plans are made at the end of the job before them, instead of by a job of their own.

Every orchestrator unit costs a start (a pod, a scheduler hop, a billed runner), so a fan-out
(or a layer's entry hooks) whose plan needs only what one job has just committed is planned
at the end of that job (``laminar task --then-plan``), on every target that can read the
legs from it (``Traits.fuse_plans``). Decided here once; dialects only read ``Job.plan``.
"""

from __future__ import annotations

from laminar.backends.traits import Traits
from laminar.ir import FlowIR, LayerSpec
from laminar.ir.branching import decides


def planned(spec: LayerSpec) -> bool:
    """Whether the layer has a plan: a ForEach layer, or one whose entry hooks decide."""
    return spec.is_foreach or spec.has_entry


def fused_plans(ir: FlowIR, waits: dict[str, tuple[str, ...]], traits: Traits) -> dict[str, str]:
    """Planned layer -> the upstream that plans it: where its only upstream runs once, and
    always runs (it waits on no decision), the plan needs nothing that upstream's job has
    not just committed. Entry hooks are the user's code: they are planned there only when
    that job has the layer's own container (image, environment, command).

    Where a job's outputs all go to one file (``$LAMINAR_OUTPUT``'s XCom, ``$GITHUB_OUTPUT``'s
    fixed ``legs``/``matrix`` lines), a job plans one fan-out at most: the first in run
    order. Where the shim says a skip by its exit status (no native skips), an upstream that
    may end not finished (``Catch``, entry hooks) plans nothing: its task ends skipped before
    the orchestrator reads the legs.
    """
    if not traits.fuse_plans:
        return {}
    one_each = traits.outputs_share_file
    fused: dict[str, str] = {}
    for spec in ir.specs():
        if not (planned(spec) and len(spec.dependencies) == 1):
            continue
        upstream = ir.spec(spec.dependencies[0])
        if planned(upstream) or waits[upstream.name]:
            continue
        if not traits.native_skips and decides(upstream):
            continue
        if spec.has_entry and spec.settings.container != upstream.settings.container:
            continue
        if one_each and upstream.name in fused.values():
            continue
        fused[spec.name] = upstream.name
    return fused
