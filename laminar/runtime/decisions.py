"""Whether a layer or a task runs: skips that follow a skip, and their records.

The decision is made here, in the shim, once, the same way on every target; it is committed
like a result (a task's commit with status ``skipped`` or ``caught``, or a ForEach plan marked
skipped), so a resumed run and every orchestrator see the same thing. When a layer does not
finish, the layers after it that are skipped for sure (``ir.branching.skip_closure``) are
committed as skipped at once: an orchestrator may then skip their jobs without running them,
and the records still say why.

These functions take what they read (the flow's IR, the execution) as arguments: they never
call back into ``Runtime``, which combines them with the entry hooks (``runtime.hooks``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

from laminar.errors import ExecutionError
from laminar.ir import FlowIR, LayerSpec
from laminar.ir.branching import skip_closure
from laminar.runtime.fanout import positions
from laminar.store.execution import CAUGHT, MAIN, SKIPPED, Execution, Manifest, PlanRecord


class Runs:
    """The verdict that a task runs."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "RUNS"


class Skip:
    """The verdict that a task is skipped, and why; ``recorded`` when the skip is committed
    already (with its layer's), so the caller has nothing to write."""

    __slots__ = ("reason", "recorded")

    def __init__(self, reason: str, *, recorded: bool = False) -> None:
        self.reason = reason
        self.recorded = recorded

    def __repr__(self) -> str:
        return f"Skip({self.reason!r}, recorded={self.recorded})"


#: Whether a task runs: ``RUNS`` or a ``Skip``.
Verdict: TypeAlias = Runs | Skip
RUNS = Runs()


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


def layer_state(ir: FlowIR, execution: Execution, name: str) -> Ended | None:
    """How layer ``name`` ended; ``None`` when it has not run (nor been skipped) yet."""
    return ended(execution, name, foreach=ir.spec(name).is_foreach)


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


def task_state(execution: Execution, name: str, task: int) -> Ended:
    """How task ``task`` of ForEach layer ``name`` ended (it must have)."""
    manifest = execution.commits.read_manifest(name, str(task))
    if manifest is None:
        raise ExecutionError(
            f"Layer {name} task {task} has not committed results in execution "
            f"{execution.id}. Run {name} first."
        )
    return _ended(manifest)


def not_finished(name: str, ended: Ended) -> str:
    """Why a layer after ``name`` is skipped."""
    if ended.caught:
        return f"{name} failed and its error was caught"
    return f"{name} was skipped"


def blocked_by(
    ir: FlowIR, execution: Execution, spec: LayerSpec, upstreams: tuple[str, ...]
) -> str | None:
    """Why ``spec`` cannot run because one of ``upstreams`` did not finish; ``None`` when
    all did.

    An upstream that has not run at all is an error: the orchestrator (or the caller) started
    ``spec`` too early.
    """
    if not ir.branches:
        return None  # nothing can be skipped: an upstream not run fails when it is read
    for upstream in upstreams:
        state = layer_state(ir, execution, upstream)
        if state is None:
            raise ExecutionError(
                f"Layer {spec.name} cannot start in execution {execution.id}: its "
                f"upstream {upstream} has not run yet. Run {upstream} first."
            )
        if not state.finished:
            return not_finished(upstream, state)
    return None


def require_started(ir: FlowIR, execution: Execution, spec: LayerSpec) -> None:
    """Refuse to plan ``spec`` before every layer it depends on has run or been skipped: its
    entry hooks would decide on a state that is not there yet."""
    if ir.branches and spec.has_entry:
        blocked_by(ir, execution, spec, spec.dependencies)  # raises for a layer not run


def blocked_task(
    execution: Execution, spec: LayerSpec, index: int, plan: PlanRecord
) -> Skip | None:
    """Why task ``index`` of ForEach layer ``spec`` is skipped because the upstream task it
    maps onto 1:1 did not finish (its entry hook, if any, decides instead); else ``None``."""
    if spec.has_entry:
        return None
    for (layer, _), (position, mapped) in positions(plan, index).items():
        if mapped:
            state = task_state(execution, layer, position)
            if not state.finished:
                return Skip(not_finished(f"{layer}[{position}]", state))
    return None


def commit_skip(
    ir: FlowIR,
    execution: Execution,
    spec: LayerSpec,
    reason: str,
    *,
    status: str = SKIPPED,
    report: Callable[[str], None] | None = None,
) -> None:
    """Record that ``spec`` (a whole layer) did not finish, and skip what follows for sure;
    ``report`` is told (the shim prints it into the task's log)."""
    execution.ensure_created()
    if spec.is_foreach:
        execution.commits.write_plan(spec.name, PlanRecord(count=0, legs=0, skipped=reason))
    else:
        execution.commit(Manifest(spec.name, MAIN, status=status, reason=reason))
    if report is not None:
        report(f"{spec.name} skipped: {reason}" if status == SKIPPED else f"{spec.name}: {reason}")
    follow = not_finished(spec.name, Ended(False, reason, status == CAUGHT))
    for name in skip_closure(ir, spec.name):
        if ir.spec(name).is_foreach:
            execution.commits.write_plan(name, PlanRecord(count=0, legs=0, skipped=follow))
        else:
            execution.commit(Manifest(name, MAIN, status=SKIPPED, reason=follow))
