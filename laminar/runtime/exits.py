"""A flow's exit hooks (``@hooks.exit``): once per run, after every layer has ended or the run
has failed, with the run's ``Execution``: ``succeeded``, ``failures`` and its results.

The outcome is read from the datastore (commits and attempt records, as ``laminar show``
reads them), so it is the same wherever the hooks run: at the end of a local run, or in the
final job an orchestrator starts whatever happened (Argo ``onExit``, an Airflow task that runs
on any outcome, a GitHub job with ``if: always()``). A task stopped from outside (killed, out
of memory, evicted, past a deadline) leaves no record: it is reported as such. The
orchestrator's own verdict, when it hands one over (``$LAMINAR_RUN_STATUS``), wins.

Once per run: a marker committed first-writer-wins after the hooks ran, named after the
outcome, keeps a retried exit job from alerting twice, while a resumed run that ends otherwise
is told again. A failing hook is reported and makes the exit job fail; it never
changes the run's own result.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass

from laminar.contract import ENV_RUN_STATUS
from laminar.ir import FlowIR
from laminar.runtime.context import failed
from laminar.runtime.status import report_layer
from laminar.store.execution import Execution
from laminar.store.files import AlreadyCommitted

#: The marker that the exit hooks ran for one outcome of the run, in the execution's folder.
MARKER_PREFIX = "exit-"
#: What a task stopped from outside leaves: nothing, so this is said instead.
NO_RECORD = (
    "no record: the task was stopped from outside (killed, out of memory, evicted, past a "
    "deadline) or never started"
)


@dataclass(frozen=True)
class Failure:
    """A task that did not finish: its layer, its index (``None``: a layer that runs once),
    the error (``Type: message``) and how many attempts it made (0: none recorded)."""

    layer: str
    index: int | None
    error: str
    attempts: int


def failures_of(ir: FlowIR, execution: Execution) -> tuple[list[Failure], bool]:
    """The run's failures, and whether every layer ended."""
    found: list[Failure] = []
    reports = {spec.name: report_layer(execution, spec) for spec in ir.specs()}
    for spec in ir.specs():
        report = reports[spec.name]
        for record in report.failures:
            index = None if not record.task.isdigit() else int(record.task)
            found.append(Failure(spec.name, index, record.error or "failed", record.attempt))
        if not report.failures:  # beside a recorded failure, a silent task was not started
            found += [Failure(spec.name, task, NO_RECORD, 0) for task in report.silent]
        due = all(reports[up].ended for up in spec.dependencies)
        if due and not report.ended and not report.failures and not report.silent:
            found.append(Failure(spec.name, None, NO_RECORD, 0))
    return found, all(report.ended for report in reports.values())


def run_exit_hooks(
    ir: FlowIR,
    flow: type,
    execution: Execution,
    handle: object,
    say: Callable[[str], None],
) -> bool:
    """Run ``ir``'s exit hooks once for this run, with ``handle`` (the run's ``Execution``)
    told ``succeeded`` and ``failures``; False when a hook raised (it is reported)."""
    if not ir.exits:
        return True
    failures, ended = failures_of(ir, execution)
    given = os.environ.get(ENV_RUN_STATUS, "")
    succeeded = (given.lower() == "succeeded") if given else (ended and not failures)
    if not succeeded and not failures:
        failures.append(Failure("", None, f"the orchestrator reports the run {given}", 0))
    # Once per outcome: a retried exit job finds its marker; a resumed run that ends
    # differently (it succeeded this time) is told again.
    handle.succeeded = succeeded  # type: ignore[attr-defined]
    handle.failures = failures  # type: ignore[attr-defined]
    outcome = json.dumps([succeeded, [[f.layer, f.index, f.error] for f in failures]])
    key = hashlib.sha256(outcome.encode()).hexdigest()[:16]
    marker = execution.layout.absolute(f"{MARKER_PREFIX}{key}.json")
    if execution.store.exists(marker):
        return True
    ok = True
    for hook in ir.exits:
        try:
            hook.function(object.__new__(flow), handle)
        except Exception as error:
            report = failed(f"{ir.name}.{hook.name}", None, error)
            say(f"exit hook {ir.name}.{hook.name} failed:\n{report.user_traceback}{report.error}")
            ok = False
    if ok:
        with contextlib.suppress(AlreadyCommitted):  # another exit job of this run was first
            execution.store.write_atomic(marker, b'{"exit hooks": "ran"}\n', exclusive=True)
    return ok
