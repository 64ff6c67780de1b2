"""The local executor: ``laminar run`` and ``python flow.py``.

It runs the layers in dependency order through the same ``Runtime`` the deployed shim uses,
so every value goes through the datastore. ForEach tasks run in index order, or in ``workers``
processes. The first failing task stops the run with its layer, index and traceback; running
again with the same execution id resumes, skipping committed tasks. On a local datastore the
run holds the execution's lease (``laminar.store.lease``): one writer at a time.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import os
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime, timezone
from typing import Any

from laminar.configurations import serde
from laminar.contract import check_execution_id
from laminar.errors import ExecutionError
from laminar.ir import FlowIR, LayerSpec
from laminar.runtime.context import TaskFailed, in_layer
from laminar.runtime.deadline import Deadline
from laminar.runtime.inputs import check_inputs
from laminar.runtime.progress import Progress
from laminar.runtime.results import layer_summary
from laminar.runtime.task import Runtime
from laminar.store.datastore import Datastore
from laminar.store.execution import CAUGHT, MAIN, SKIPPED, Execution, PlanRecord
from laminar.store.lease import Lease
from laminar.store.refusals import refused
from laminar.text import printable


class WorkerDied(ExecutionError):
    """A ``--workers`` process died (killed, out of memory, ``os._exit``) while running tasks."""


_WORKER: Runtime | None = None


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
) -> Execution:
    """Run every layer of ``ir`` with ``inputs``; raises ``TaskFailed`` on the first failing
    task. The inputs are committed first (a resumed execution keeps its own).

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
        runtime.start(inputs)
        execution.ensure_created()
        if invalidated:
            execution.invalidate(invalidated)
            progress.say(f"re-running {', '.join(invalidated)}: their commits were deleted")
        try:
            _run_layers(ir, runtime, execution, workers, progress)
        except Exception:
            _exit_hooks(ir, execution, progress)  # after a failure too; the failure stands
            raise
        _exit_hooks(ir, execution, progress)
    return execution


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


def _run_layers(
    ir: FlowIR, runtime: Runtime, execution: Execution, workers: int, progress: Progress
) -> None:
    for position, spec in enumerate(ir.specs(), start=1):
        started = time.monotonic()
        label = f"[{position}/{len(ir.order)}] {printable(spec.name)}"
        with in_layer(spec.name):
            if spec.is_foreach:
                plan = runtime.plan(spec.name)
                ran = _run_tasks(runtime, spec, plan, workers, progress, started)
                detail = _foreach_detail(execution, spec, plan, ran)
            else:
                ran = int(
                    runtime.run_task(spec, None, None, owns_attempts=True, on_retry=progress.say)
                )
                detail = _layer_detail(execution, spec.name, ran)
        progress.say(f"{label}: {detail} ({time.monotonic() - started:.2f}s)")


def _layer_detail(execution: Execution, layer: str, ran: int) -> str:
    manifest = execution.commits.read_manifest(layer, MAIN)
    if manifest is not None and not manifest.finished:
        return f"{manifest.status} ({printable(manifest.reason)})"
    return "ran" if ran else "already committed"


def _foreach_detail(execution: Execution, spec: LayerSpec, plan: PlanRecord, ran: int) -> str:
    if plan.skipped:
        return f"skipped ({printable(plan.skipped)})"
    state = layer_summary(execution, spec)  # which tasks were skipped or caught, as show says
    detail = f"{plan.count} tasks"
    for tasks, status in ((state.skipped, SKIPPED), (state.caught, CAUGHT)):
        detail += f", {len(tasks)} {status}" if tasks else ""
    done_before = plan.count - ran
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
) -> int:
    pending = runtime.pending(spec.name, range(plan.count))
    foreach = spec.settings.foreach
    if foreach is not None and foreach.concurrency is not None:
        workers = min(workers, foreach.concurrency)  # ForEach(concurrency=N): N at once
    if workers <= 1 or len(pending) <= 1:
        with runtime.committing() as group:
            for done, index in enumerate(pending, start=1):
                runtime.run_task(
                    spec, index, plan, owns_attempts=True, on_retry=progress.say, pending=True,
                    group=group,
                )  # fmt: skip
                progress.tasks(spec.name, done, len(pending), started)
        return len(pending)
    return _run_parallel(runtime, spec, plan, pending, workers, progress, started)


def _run_parallel(
    runtime: Runtime,
    spec: LayerSpec,
    plan: PlanRecord,
    pending: list[int],
    workers: int,
    progress: Progress,
    started: float,
) -> int:
    global _WORKER
    _WORKER = runtime  # inherited by forked workers: the flow is already loaded there
    size = max(1, min(256, len(pending) // (workers * 8)))
    batches = [pending[i : i + size] for i in range(0, len(pending), size)]
    context = multiprocessing.get_context("fork")
    sys.stdout.flush()  # a forked child must not inherit (and print again) buffered output
    sys.stderr.flush()
    done = 0
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures: dict[Future[tuple[int, tuple[int, str, str] | None]], list[int]] = {
            pool.submit(_worker_batch, spec.name, batch, plan.to_json()): batch for batch in batches
        }
        remaining = set(futures)
        while remaining:
            finished, remaining = wait(remaining, return_when=FIRST_EXCEPTION, timeout=0.2)
            for future in finished:
                try:
                    count, failure = future.result()
                except BrokenProcessPool:
                    lost = sorted(i for f in (finished | remaining) for i in futures[f])
                    raise WorkerDied(
                        f"A worker process died while running {spec.name} (killed, out of "
                        f"memory, or it called os._exit) among tasks {_ranges(lost)}. Tasks "
                        f"committed before are kept; the others run again on resume."
                    ) from None
                done += count
                if failure is not None:
                    for other in remaining:
                        other.cancel()
                    index, error, user_traceback = failure
                    raise TaskFailed(spec.name, index, error, user_traceback)
            progress.tasks(spec.name, done, len(pending), started)
    return done


def _ranges(indices: list[int]) -> str:
    """``[1, 2, 3, 7]`` as ``1-3, 7`` (at most ten ranges shown)."""
    runs: list[list[int]] = []
    for i in indices:
        if runs and runs[-1][1] + 1 == i:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    shown = [f"{a}-{b}" if a != b else str(a) for a, b in runs[:10]]
    return ", ".join(shown) + (", ..." if len(runs) > 10 else "")


def _worker_batch(
    layer: str, indices: list[int], plan_json: bytes
) -> tuple[int, tuple[int, str, str] | None]:
    assert _WORKER is not None
    runtime = _WORKER
    spec = runtime.ir.spec(layer)
    plan = PlanRecord.from_json(plan_json)
    ran = 0
    with runtime.committing() as group:
        for index in indices:
            captured = io.StringIO()
            try:
                with contextlib.redirect_stdout(captured):
                    runtime.run_task(
                        spec, index, plan, owns_attempts=True, pending=True, group=group
                    )
            except TaskFailed as failure:
                return ran, (index, failure.error, failure.user_traceback)
            finally:
                # One write per task, so lines of concurrent tasks never interleave.
                sys.stdout.write(captured.getvalue())
                sys.stdout.flush()
            ran += 1
    return ran, None
