"""The local executor: ``laminar run`` and ``python flow.py``.

It runs the layers in dependency order through the same ``Runtime`` the deployed shim uses,
so every value goes through the datastore. ForEach tasks run in index order, or in ``workers``
processes (``laminar.runtime.parallel``). The first failing task stops the run with its layer,
index and traceback (fail-fast, as Argo; with ``keep_going`` every task and layer that does
not depend on a failure runs first, as Airflow and GitHub Actions carry on); running again
with the same execution id resumes, skipping committed tasks. On a local datastore the run
holds the execution's lease (``laminar.store.lease``): one writer at a time.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from typing import Any

from laminar.configurations import serde
from laminar.contract import check_execution_id
from laminar.ir import FlowIR, LayerSpec
from laminar.runtime.context import TaskFailed, in_layer
from laminar.runtime.deadline import Deadline
from laminar.runtime.hooks import around_inputs
from laminar.runtime.inputs import check_inputs
from laminar.runtime.parallel import kept, run_parallel
from laminar.runtime.progress import Progress
from laminar.runtime.results import layer_summary
from laminar.runtime.task import Runtime
from laminar.store.datastore import Datastore
from laminar.store.execution import CAUGHT, MAIN, SKIPPED, Execution, PlanRecord
from laminar.store.lease import Lease
from laminar.store.refusals import refused
from laminar.text import printable


class TasksFailed(TaskFailed):
    """``--keep-going``: the run went on after failures and ends here, listing them. Each
    failure's traceback was shown when it happened; the first one is kept for callers."""

    def __init__(self, failures: list[TaskFailed], not_run: list[str]) -> None:
        first = failures[0]
        super().__init__(first.layer, first.index, first.error, "")
        shown = [str(f) for f in failures[:10]] + (["..."] if len(failures) > 10 else [])
        after = f"; not run, as they depend on a failed layer: {', '.join(not_run)}"
        self.args = (
            f"{len(failures)} task(s) failed: " + "; ".join(shown) + (after if not_run else ""),
        )
        self.failures = failures


def new_execution_id() -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{os.urandom(3).hex()}"


def execute(
    ir: FlowIR,
    store: Datastore,
    execution_id: str,
    *,
    workers: int = 1,
    progress: Progress | None = None,
    inputs: dict[str, Any] | None = None,
    rerun: Sequence[str] = (),
    keep_going: bool = False,
) -> Execution:
    """Run every layer of ``ir`` with ``inputs``; raises ``TaskFailed`` on the first failing
    task. The inputs are committed first (a resumed execution keeps its own).

    With ``keep_going`` a failure stops only what depends on it: the other tasks of its
    fan-out and the independent layers run, then ``TasksFailed`` lists every failure.

    ``rerun`` names layers whose commits are deleted first, with every layer after them, so
    they run again (the remedy for a damaged artifact).
    """
    progress = progress or Progress(quiet=True)
    check_execution_id(execution_id, "execution")
    invalidated = rerun_closure(ir, rerun)
    execution = Execution(store, ir.name, execution_id, protocols=serde.PROTOCOLS)
    runtime = Runtime(ir, execution)
    timeout = ir.settings.timeout
    if timeout is not None:
        runtime.deadline = Deadline(timeout, f"class {ir.name}(Flow, timeout={timeout:g})")
    check_inputs(ir, execution, inputs)  # bad inputs fail here, before the execution exists
    with _writer(execution, progress):  # the lease first: nothing is written without it
        fresh = not execution.exists()
        with around_inputs(ir, inputs) if fresh else contextlib.nullcontext():
            runtime.start(inputs)
            execution.ensure_created()
        if invalidated:
            execution.invalidate(invalidated)
            progress.say(f"re-running {', '.join(invalidated)}: their commits were deleted")
        try:
            _run_layers(ir, runtime, workers, progress, keep_going)
        except Exception:
            _exit_hooks(ir, execution, progress)  # after a failure too; the failure stands
            raise
        _exit_hooks(ir, execution, progress)
    return execution


def _run_layers(
    ir: FlowIR, runtime: Runtime, workers: int, progress: Progress, keep_going: bool
) -> None:
    """Every layer in order; with ``keep_going`` a failure stops only what depends on it."""
    failures: list[TaskFailed] | None = [] if keep_going else None
    blocked: dict[str, str] = {}  # keep_going: a layer not run -> the failed one before it
    for position, spec in enumerate(ir.specs(), start=1):
        started = time.monotonic()
        label = f"[{position}/{len(ir.order)}] {printable(spec.name)}"
        if spec.name in blocked:
            progress.say(f"{label}: not run ({printable(blocked[spec.name])} failed)")
            continue
        failed = len(failures or ())
        with in_layer(spec.name):
            detail = _run_layer(runtime, spec, workers, progress, started, failures)
        if failures is not None and len(failures) > failed:
            for later in rerun_closure(ir, [spec.name])[1:]:
                blocked.setdefault(later, spec.name)
        progress.say(f"{label}: {detail} ({time.monotonic() - started:.2f}s)")
    if failures:
        raise TasksFailed(failures, list(blocked))


def _exit_hooks(ir: FlowIR, execution: Execution, progress: Progress) -> None:
    """The flow's ``@hooks.exit`` hooks, once, with the run's ``Execution``."""
    if not ir.exits or ir.flow is None:
        return
    from laminar.runtime.exits import run_exit_hooks
    from laminar.runtime.handle import Execution as Handle

    handle = Handle(ir.flow, execution.id, execution.store.url)
    say = progress.say if not progress.quiet else _stderr
    if not run_exit_hooks(ir, ir.flow, execution, handle, say):
        say("the run's own result stands; fix the exit hook and resume to run it again")


def _stderr(message: str) -> None:
    print(f"laminar: {message}", file=sys.stderr, flush=True)


def _run_layer(
    runtime: Runtime,
    spec: LayerSpec,
    workers: int,
    progress: Progress,
    started: float,
    failures: list[TaskFailed] | None,
) -> str:
    """Run one layer's tasks; returns what the progress line says about them. ``failures``
    (keep-going) collects failing tasks instead of raising the first."""
    execution = runtime.execution
    if spec.is_foreach:
        plan = runtime.plan(spec.name)
        before = len(failures or ())
        ran, served = _run_tasks(runtime, spec, plan, workers, progress, started, failures)
        if failures:  # workers report in any order; the summary lists tasks in index order
            failures[before:] = sorted(failures[before:], key=lambda f: f.index or 0)
        failed = len(failures or ()) - before
        return _foreach_detail(execution, spec, plan, (ran, served, failed))
    try:
        ran = runtime.run_task(spec, None, None, owns_attempts=True, on_retry=progress.say)
    except TaskFailed as failure:
        kept(failure, failures, progress)
        return "failed"
    return _layer_detail(execution, spec.name, int(ran))


def _layer_detail(execution: Execution, layer: str, ran: int) -> str:
    manifest = execution.commits.read_manifest(layer, MAIN)
    if manifest is not None and not manifest.finished:
        return f"{manifest.status} ({printable(manifest.reason)})"
    if ran and manifest is not None and manifest.cached_from:
        return f"served from the cache (execution {printable(manifest.cached_from)})"
    return "ran" if ran else "already committed"


def _foreach_detail(
    execution: Execution, spec: LayerSpec, plan: PlanRecord, counts: tuple[int, int, int]
) -> str:
    """What the progress line says of a ForEach layer; ``counts``: how many of its tasks this
    run ran (served from the cache included), served from the cache, and saw fail."""
    ran, served, failed = counts
    if plan.skipped:
        return f"skipped ({printable(plan.skipped)})"
    state = layer_summary(execution, spec)  # which tasks were skipped or caught, as show says
    detail = f"{plan.count} tasks"
    for tasks, status in ((state.skipped, SKIPPED), (state.caught, CAUGHT)):
        detail += f", {len(tasks)} {status}" if tasks else ""
    detail += f", {failed} failed" if failed else ""
    detail += f", {served} served from the cache" if served else ""
    done_before = plan.count - ran - failed
    return detail + (f", {done_before} already committed" if done_before > 0 else "")


def rerun_closure(ir: FlowIR, layers: Sequence[str]) -> list[str]:
    """``layers`` and every layer downstream of them, in run order."""
    todo = [ir.spec(name).name for name in layers]  # unknown names: an error listing the layers
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(ir.downstream(name))
    return [name for name in ir.order if name in seen]


@contextlib.contextmanager
def _writer(execution: Execution, progress: Progress) -> Iterator[None]:
    """Hold the execution's lease while running, on local datastores."""
    if not execution.store.local:
        yield
        return
    lease = Lease(execution.layout.lease(), execution.id, progress.say)
    try:
        lease.acquire()
    except OSError as error:  # a read-only or full disk: say so, as for any other write
        raise refused(error, execution.store.url, lease.path, 0) from None
    with lease:
        execution.lease = lease
        try:
            yield
        finally:
            execution.lease = None


def _run_tasks(
    runtime: Runtime,
    spec: LayerSpec,
    plan: PlanRecord,
    workers: int,
    progress: Progress,
    started: float,
    failures: list[TaskFailed] | None = None,
) -> tuple[int, int]:
    """Run the pending tasks of a ForEach layer; returns how many ran (and succeeded), and
    how many of those were served from the cache."""
    pending = runtime.pending(spec.name, range(plan.count))
    foreach = spec.settings.foreach
    if foreach is not None and foreach.concurrency is not None:
        workers = min(workers, foreach.concurrency)  # ForEach(concurrency=N): N at once
    if workers <= 1 or len(pending) <= 1:
        ran, served = 0, runtime.served(spec.name)
        runtime.expect(spec, pending)
        with runtime.committing() as group:
            for done, index in enumerate(pending, start=1):
                try:
                    runtime.run_task(
                        spec, index, plan, owns_attempts=True, on_retry=progress.say, pending=True,
                        group=group,
                    )  # fmt: skip
                    ran += 1
                except TaskFailed as failure:
                    kept(failure, failures, progress)
                progress.tasks(spec.name, done, len(pending), started)
        return ran, runtime.served(spec.name) - served
    return run_parallel(runtime, spec, plan, pending, workers, progress, started, failures)
