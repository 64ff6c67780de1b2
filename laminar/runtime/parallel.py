"""The local executor's ``--workers``: ForEach tasks in forked processes, in batches.

Each worker inherits the loaded flow (``_WORKER``) and commits its tasks itself; the parent
only counts them and hears of failures, so a ten-thousand-task fan-out sends small messages.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import sys
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from laminar.errors import ExecutionError
from laminar.ir import LayerSpec
from laminar.runtime.context import TaskFailed
from laminar.runtime.progress import Progress
from laminar.runtime.task import Runtime
from laminar.store.execution import PlanRecord


class WorkerDied(ExecutionError):
    """A ``--workers`` process died (killed, out of memory, ``os._exit``) while running tasks."""


_WORKER: Runtime | None = None


def kept(failure: TaskFailed, failures: list[TaskFailed] | None, progress: Progress) -> None:
    """Fail-fast (``failures`` None): raise ``failure``; keep-going: show it and go on."""
    if failures is None:
        raise failure
    failures.append(failure)
    progress.failure(failure.user_traceback, str(failure))


def run_parallel(
    runtime: Runtime,
    spec: LayerSpec,
    plan: PlanRecord,
    pending: list[int],
    workers: int,
    progress: Progress,
    started: float,
    failures: list[TaskFailed] | None,
) -> tuple[int, int]:
    """Run tasks ``pending`` in ``workers`` forked processes; returns how many ran (and
    succeeded), and how many of those were served from the cache."""
    global _WORKER
    _WORKER = runtime  # inherited by forked workers: the flow is already loaded there
    size = max(1, min(256, len(pending) // (workers * 8)))
    batches = [pending[i : i + size] for i in range(0, len(pending), size)]
    context = multiprocessing.get_context("fork")
    sys.stdout.flush()  # a forked child must not inherit (and print again) buffered output
    sys.stderr.flush()
    done = served = 0
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        keep_going = failures is not None
        futures: dict[Future[tuple[int, int, list[tuple[int, str, str]]]], list[int]] = {
            pool.submit(_worker_batch, spec.name, batch, plan.to_json(), keep_going): batch
            for batch in batches
        }
        remaining = set(futures)
        while remaining:
            finished, remaining = wait(remaining, return_when=FIRST_EXCEPTION, timeout=0.2)
            for future in finished:
                try:
                    count, cached, failed = future.result()
                except BrokenProcessPool:
                    lost = sorted(i for f in (finished | remaining) for i in futures[f])
                    raise WorkerDied(
                        f"A worker process died while running {spec.name} (killed, out of "
                        f"memory, or it called os._exit) among tasks {_ranges(lost)}. Tasks "
                        f"committed before are kept; the others run again on resume."
                    ) from None
                done += count
                served += cached
                for index, error, user_traceback in failed:
                    if not keep_going:
                        for other in remaining:
                            other.cancel()
                    kept(TaskFailed(spec.name, index, error, user_traceback), failures, progress)
            progress.tasks(spec.name, done, len(pending), started)
    return done, served


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
    layer: str, indices: list[int], plan_json: bytes, keep_going: bool
) -> tuple[int, int, list[tuple[int, str, str]]]:
    """Run tasks ``indices`` in a worker; returns how many succeeded, how many of those were
    served from the cache, and the failures (the first ends the batch unless
    ``keep_going``)."""
    assert _WORKER is not None
    runtime = _WORKER
    spec = runtime.ir.spec(layer)
    plan = PlanRecord.from_json(plan_json)
    ran, served = 0, runtime.served(layer)
    failures: list[tuple[int, str, str]] = []
    runtime.expect(spec, indices)
    with runtime.committing() as group:
        for index in indices:
            captured = io.StringIO()
            try:
                with contextlib.redirect_stdout(captured):
                    runtime.run_task(
                        spec, index, plan, owns_attempts=True, pending=True, group=group
                    )
            except TaskFailed as failure:
                failures.append((index, failure.error, failure.user_traceback))
                if not keep_going:
                    return ran, runtime.served(layer) - served, failures
                continue
            finally:
                # One write per task, so lines of concurrent tasks never interleave.
                sys.stdout.write(captured.getvalue())
                sys.stdout.flush()
            ran += 1
    return ran, runtime.served(layer) - served, failures
