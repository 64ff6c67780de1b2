"""Whether a layer or a task runs: entry hooks, skips that follow a skip, and their records.

The decision is made here, in the shim, once, the same way on every target; it is committed
like a result (a task's commit with status ``skipped`` or ``caught``, or a ForEach plan marked
skipped), so a resumed run and every orchestrator see the same thing. When a layer does not
finish, the layers after it that are skipped for sure (``ir.branching.skip_closure``) are
committed as skipped at once: an orchestrator may then skip their jobs without running them,
and the records still say why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from laminar.errors import ExecutionError
from laminar.ir import LayerSpec
from laminar.ir.branching import skip_closure
from laminar.runtime.fanout import positions
from laminar.store.execution import CAUGHT, MAIN, SKIPPED, Execution, Manifest, PlanRecord

if TYPE_CHECKING:
    from laminar.runtime.task import Runtime


class Ended:
    """How a layer (or one task) ended, as its downstream sees it."""

    __slots__ = ("caught", "finished", "reason")

    def __init__(self, finished: bool, reason: str = "", caught: bool = False) -> None:
        self.finished = finished
        #: Why it did not finish ("" when it did).
        self.reason = reason
        #: Whether it failed with an error its ``Catch`` lists (else it was skipped).
        self.caught = caught

    def __repr__(self) -> str:
        if self.finished:
            return "State(finished=True)"
        return f"State(finished=False, reason={self.reason!r})"


def layer_state(runtime: Runtime, name: str) -> Ended | None:
    """How layer ``name`` ended; ``None`` when it has not run (nor been skipped) yet."""
    return ended(runtime.execution, name, foreach=runtime.ir.spec(name).is_foreach)


def ended(execution: Execution, name: str, *, foreach: bool) -> Ended | None:
    """How layer ``name`` ended in ``execution``, from its plan (ForEach) or its commit."""
    if foreach:
        plan = execution.commits.read_plan(name)
        if plan is None:
            return None
        return Ended(not plan.skipped, plan.skipped)
    manifest = execution.commits.read_manifest(name, MAIN)
    return None if manifest is None else _ended(manifest)


def _ended(manifest: Manifest) -> Ended:
    return Ended(manifest.finished, manifest.reason, manifest.status == CAUGHT)


def task_state(runtime: Runtime, name: str, task: int) -> Ended:
    """How task ``task`` of ForEach layer ``name`` ended (it must have)."""
    manifest = runtime.execution.commits.read_manifest(name, str(task))
    if manifest is None:
        raise ExecutionError(
            f"Layer {name} task {task} has not committed results in execution "
            f"{runtime.execution.id}. Run {name} first."
        )
    return _ended(manifest)


def not_finished(name: str, ended: Ended) -> str:
    """Why a layer after ``name`` is skipped."""
    if ended.caught:
        return f"{name} failed and its error was caught"
    return f"{name} was skipped"


def blocked_by(runtime: Runtime, spec: LayerSpec, upstreams: tuple[str, ...]) -> str:
    """Why ``spec`` cannot run because one of ``upstreams`` did not finish; "" when all did.

    An upstream that has not run at all is an error: the orchestrator (or the caller) started
    ``spec`` too early.
    """
    if not runtime.ir.branches:
        return ""  # nothing can be skipped: an upstream not run fails when it is read
    for upstream in upstreams:
        ended = layer_state(runtime, upstream)
        if ended is None:
            raise ExecutionError(
                f"Layer {spec.name} cannot start in execution {runtime.execution.id}: its "
                f"upstream {upstream} has not run yet. Run {upstream} first."
            )
        if not ended.finished:
            return not_finished(upstream, ended)
    return ""


def require_started(runtime: Runtime, spec: LayerSpec) -> None:
    """Refuse to plan ``spec`` before every layer it depends on has run or been skipped: its
    entry hooks would decide on a state that is not there yet."""
    if runtime.ir.branches and spec.has_entry:
        blocked_by(runtime, spec, spec.dependencies)  # raises for a layer not run


def skip_upstreams(spec: LayerSpec) -> tuple[str, ...]:
    """The upstreams that skip ``spec`` when one did not finish: all of them without an entry
    hook; with one, only what a ForEach fans out over (the hook decides the rest)."""
    if not spec.has_entry:
        return spec.dependencies
    return tuple(sorted({p.layer for p in spec.foreach}))


def decide(
    runtime: Runtime, spec: LayerSpec, index: int | None, plan: PlanRecord | None
) -> str | None:
    """Whether task ``index`` of ``spec`` is skipped: ``None`` when it runs, else why (""
    when the skip is committed already, with the layer's)."""
    from laminar.runtime.hooks import entry_decision

    if index is None:
        if spec.has_entry:  # its plan ran the hooks
            return "" if runtime.plan(spec.name).skipped else None
        blocked = blocked_by(runtime, spec, spec.dependencies)
        if blocked:
            commit_skip(runtime, spec, blocked)
            return ""
        return None
    assert plan is not None
    if not runtime.ir.branches:
        return None
    for (layer, _), (position, mapped) in positions(plan, index).items():
        ended = task_state(runtime, layer, position) if mapped else None
        if ended is not None and not ended.finished and not spec.has_entry:
            return not_finished(f"{layer}[{position}]", ended)
    return entry_decision(runtime, spec, index, plan) or None


def commit_skip(runtime: Runtime, spec: LayerSpec, reason: str, status: str = SKIPPED) -> None:
    """Record that ``spec`` (a whole layer) did not finish, and skip what follows for sure."""
    execution = runtime.execution
    execution.ensure_created()
    if spec.is_foreach:
        execution.commits.write_plan(spec.name, PlanRecord(count=0, legs=0, skipped=reason))
    else:
        execution.commit(Manifest(spec.name, MAIN, status=status, reason=reason))
    if runtime.report is not None:
        runtime.report(
            f"{spec.name} skipped: {reason}" if status == SKIPPED else f"{spec.name}: {reason}"
        )
    follow = not_finished(spec.name, Ended(False, reason, status == CAUGHT))
    for name in skip_closure(runtime.ir, spec.name):
        later = runtime.ir.spec(name)
        if later.is_foreach:
            execution.commits.write_plan(name, PlanRecord(count=0, legs=0, skipped=follow))
        else:
            execution.commit(Manifest(name, MAIN, status=SKIPPED, reason=follow))
