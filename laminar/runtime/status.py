"""How far an execution got, and why it stopped: what ``laminar show`` prints about it.

Read from the commits, plans and attempt records (``laminar.store.attempts``), never from a
running process: the same on every target. Nothing here raises for a partial, failed,
interrupted or damaged execution: what cannot be read becomes a *problem* (what, and why),
shown next to whatever could be read.

(A little over 300 lines: what is read and the words ``show`` prints about it stay together,
so a status and its explanation cannot disagree.)
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from laminar.errors import LaminarError
from laminar.store.attempts import AttemptRecord, read_records
from laminar.store.execution import CAUGHT, MAIN, SKIPPED, Execution, Manifest
from laminar.store.inputs import read_inputs
from laminar.store.lease import ENV_LEASE_TIMEOUT, TIMEOUT

if TYPE_CHECKING:
    from laminar.ir import FlowIR, LayerSpec

RUNNING, SUCCEEDED, FAILED_STATUS = "running", "succeeded", "failed"
#: Not finished, no failure recorded, and no live local run: a run in progress on an
#: orchestrator, or one that was killed (its tasks left no commit and no record).
INCOMPLETE = "incomplete"
#: A local run that stopped without finishing or recording a failure (killed: its lease
#: names a process that no longer exists, or went silent).
INTERRUPTED = "interrupted"


@dataclass
class LayerReport:
    """How far one layer got, task by task, and what could not be read."""

    name: str
    foreach: bool
    #: Whether the layer ended: every task committed (finished, skipped or caught), or the
    #: whole layer skipped.
    ended: bool = False
    #: ForEach layers: the planned task count (None: not planned) and the tasks that finished.
    count: int | None = None
    finished: tuple[int, ...] = ()
    #: Why the whole layer did not finish (skipped, caught); "" otherwise.
    reason: str = ""
    #: Tasks that did not finish, with why: ``(task, status, reason)``.
    not_finished: list[tuple[str, str, str]] = field(default_factory=list)
    #: The last failed attempt of each task that has no commit.
    failures: list[AttemptRecord] = field(default_factory=list)
    #: The record of each caught error (its traceback).
    caught: list[AttemptRecord] = field(default_factory=list)
    #: Tasks with neither a commit nor a failure record: killed, or still running.
    silent: tuple[int, ...] = ()
    problems: list[str] = field(default_factory=list)
    #: Tasks listed as committed whose commit cannot be read (the problems say why).
    unreadable: tuple[int, ...] = ()
    #: Whether the layer's plan or commit itself cannot be read.
    damaged: bool = False
    #: The first finished task's manifest: which attributes the layer stored.
    first: Manifest | None = None
    #: Tasks served from the cache: execution they came from -> how many.
    cached: dict[str, int] = field(default_factory=dict)

    def served(self, manifest: Manifest) -> None:
        """Count ``manifest`` among the cached tasks when it was served from the cache."""
        if manifest.cached_from:
            self.cached[manifest.cached_from] = self.cached.get(manifest.cached_from, 0) + 1

    @property
    def partial(self) -> bool:
        """A ForEach layer some of whose tasks have no commit: its join has a hole."""
        if not self.foreach or self.count is None or self.reason:
            return False
        return not self.ended or bool(self.unreadable)

    @property
    def failed(self) -> bool:
        return bool(self.failures)


def report_layer(execution: Execution, spec: LayerSpec) -> LayerReport:
    """How far ``spec`` got in ``execution``; never raises for what it cannot read."""
    report = LayerReport(spec.name, spec.is_foreach)
    committed: set[str] = set()
    try:
        if spec.is_foreach:
            committed = _foreach(execution, spec.name, report)
        else:
            manifest = execution.commits.read_manifest(spec.name, MAIN)
            if manifest is not None:
                committed = {MAIN}
                report.ended = True
                report.first = manifest if manifest.finished else None
                report.served(manifest)
                if not manifest.finished:
                    report.reason = f"{manifest.status}: {manifest.reason}"
    except LaminarError as error:
        report.problems.append(str(error))
        report.damaged = True
    records = read_records(execution.objects, spec.name)
    report.problems.extend(records.problems)
    report.failures = records.last_failures(committed)
    report.caught = [r for r in records.records if r.status == CAUGHT]
    if report.partial:
        failed = {int(r.task) for r in report.failures if r.task.isdigit()}
        assert report.count is not None
        report.silent = tuple(
            t for t in range(report.count) if str(t) not in committed and t not in failed
        )
    return report


def _foreach(execution: Execution, layer: str, report: LayerReport) -> set[str]:
    plan = execution.commits.read_plan(layer)
    if plan is None:
        return set()
    report.count = plan.count
    if plan.skipped:
        report.ended, report.reason = True, f"skipped: {plan.skipped}"
        return set()
    listed = execution.commits.committed_tasks(layer)
    tasks = sorted((t for t in listed if t.isdigit() and int(t) < plan.count), key=int)
    finished: list[int] = []
    unreadable: list[int] = []
    for task, manifest in zip(tasks, _manifests(execution, layer, tasks, report), strict=True):
        if manifest is None:
            unreadable.append(int(task))
            continue
        if manifest.finished:
            finished.append(int(task))
            report.first = report.first or manifest
            report.served(manifest)
        else:
            report.not_finished.append((task, manifest.status, manifest.reason))
    report.finished = tuple(finished)
    report.unreadable = tuple(unreadable)
    report.ended = len(tasks) == plan.count
    return set(tasks)


def _manifests(
    execution: Execution, layer: str, tasks: list[str], report: LayerReport
) -> list[Manifest | None]:
    """The manifests of ``tasks``; one by one when a batch holds a damaged one, so one damaged
    commit hides only its own task."""
    try:
        return execution.commits.read_manifests(layer, tasks)
    except LaminarError:
        found: list[Manifest | None] = []
        for task in tasks:
            try:
                found.append(execution.commits.read_manifest(layer, task))
            except LaminarError as error:
                if str(error) not in report.problems:  # a group holds many tasks
                    report.problems.append(str(error))
                found.append(None)
        return found


@dataclass
class ExecutionStatus:
    """One line of ``laminar show FLOW``: how an execution stands."""

    status: str
    started: float | None
    ended: float | None
    inputs: dict[str, Any] | None
    #: The first failure (``Layer[task] failed on attempt N: Type: message``), or why the
    #: status could not be told.
    why: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def duration(self) -> float | None:
        if self.started is None or self.ended is None:
            return None
        return max(self.ended - self.started, 0.0)


def execution_status(
    ir: FlowIR, execution: Execution, reports: list[LayerReport] | None = None
) -> ExecutionStatus:
    """How ``execution`` stands: running (a live local run holds its lease), succeeded (every
    layer ended), failed (a task's last attempt failed), else incomplete."""
    if reports is None:
        reports = [report_layer(execution, spec) for spec in ir.specs()]
    problems = [p for r in reports for p in r.problems]
    started: float | None = None
    try:
        started = float(execution.record().get("created", 0)) or None
    except (LaminarError, ValueError, TypeError) as error:
        problems.append(str(error))
    inputs: dict[str, Any] | None = None
    try:
        inputs = read_inputs(execution.objects)
    except LaminarError as error:
        problems.append(str(error))
    failures = [f for r in reports for f in r.failures]
    why = ""
    if failures:
        first = min(failures, key=lambda f: f.ended)
        why = f"{first.label} failed on attempt {first.attempt}: {first.error}"
    lease = _lease(execution)
    if lease == RUNNING:
        status = RUNNING
    elif all(r.ended for r in reports):
        status = SUCCEEDED
    elif failures:
        status = FAILED_STATUS
    else:
        status = INTERRUPTED if lease == INTERRUPTED else INCOMPLETE
    ended = _last_activity(execution, reports)
    return ExecutionStatus(status, started, ended, inputs, why, problems)


def _lease(execution: Execution) -> str:
    """``running`` when a live local run holds the execution's lease (``laminar.store.lease``),
    ``interrupted`` when a lease is left by a run that died or went silent, else ""."""
    if not execution.store.local:
        return ""
    data = execution.store.read_or_none(execution.layout.lease())
    if data is None:
        return ""
    try:
        held = json.loads(data)
        age = time.time() - float(held["heartbeat"])
    except (ValueError, KeyError, TypeError):
        return INTERRUPTED
    try:
        timeout = float(os.environ.get(ENV_LEASE_TIMEOUT) or TIMEOUT)
    except ValueError:  # laminar run refuses it; a status need not
        timeout = TIMEOUT
    if held.get("host") == socket.gethostname() and isinstance(held.get("pid"), int):
        try:
            os.kill(held["pid"], 0)
        except ProcessLookupError:
            return INTERRUPTED  # killed: its lease is stale at once
        except OSError:
            pass
    return RUNNING if age < timeout else INTERRUPTED


def _last_activity(execution: Execution, reports: list[LayerReport]) -> float | None:
    """When the execution last committed or recorded anything (local stores: file times)."""
    times = [r.ended for report in reports for r in report.failures + report.caught]
    if execution.store.local:
        for report in reports:
            base = execution.layout.layer_dir(report.name)
            for name in ("tasks", "plan.json", "attempts"):
                try:
                    times.append(os.stat(f"{base}/{name}").st_mtime)
                except OSError:
                    continue
    return max(times) if times else None


def summary(report: LayerReport) -> str:
    """The bracket after a layer's name: how far it got ("" when it simply finished), and
    where tasks served from the cache came from."""
    state = _progress(report)
    cached = _cached(report)
    return f"{state}; {cached}" if state and cached else state or cached


def _cached(report: LayerReport) -> str:
    """``cached from execution X`` (a ForEach: ``2 of 3 tasks cached from execution X``)."""
    parts = []
    for execution, count in sorted(report.cached.items()):
        tasks = f"{count} of {report.count} tasks " if report.foreach else ""
        parts.append(f"{tasks}cached from execution {execution}")
    return ", ".join(parts)


def _progress(report: LayerReport) -> str:
    if report.damaged:
        return "unreadable"
    if report.reason:
        return report.reason
    if not report.foreach:
        if report.ended:
            return ""
        return "failed" if report.failures else "not run"
    if report.count is None:
        return "not planned"
    committed = len(report.finished) + len(report.not_finished)
    if report.unreadable:
        return f"{committed}/{report.count} tasks readable, {len(report.unreadable)} unreadable"
    if committed < report.count:
        return f"{committed}/{report.count} tasks committed"
    parts = [f"{report.count} tasks"]
    for what in (SKIPPED, CAUGHT):
        tasks = [t for t, status, _ in report.not_finished if status == what]
        if tasks:
            parts.append(f"{len(tasks)} {what} ({_few(tasks)})")
    return ", ".join(parts)


def partial(report: LayerReport) -> str:
    """What an Accessor of a partial fan-out says about its hole: `` (3 of 6 tasks committed)``."""
    if not report.partial:
        return ""
    return f" (the {len(report.finished)} finished of {report.count} tasks)"


def why_not(report: LayerReport, *, details: bool) -> list[tuple[str, str]]:
    """Lines saying which tasks did not finish and why, each with a traceback ("" if none):
    failures, tasks killed or still running, and (``details``) every skip and caught error."""
    name = report.name
    lines = [
        (f"{f.label} failed on attempt {f.attempt}: {f.error}", f.traceback)
        for f in report.failures
    ]
    if report.silent:
        lines.append(
            (
                f"{name}[{_few([str(t) for t in report.silent])}]: not committed and no failure "
                "recorded (not started, killed, or still running)",
                "",
            )
        )
    caught = {r.task: r for r in report.caught}
    for task, status, reason in report.not_finished:
        record = caught.get(task)
        trace = record.traceback if record is not None and status == CAUGHT else ""
        lines.append((f"{name}[{task}] {status}: {reason}", trace))
    if not report.foreach and report.reason.startswith(CAUGHT) and MAIN in caught:
        lines.append((f"{name} caught on attempt {caught[MAIN].attempt}", caught[MAIN].traceback))
    if details or len(lines) <= 10:
        return lines
    more = len(lines) - 10
    return [*lines[:10], (f"... and {more} more: laminar show FLOW {name} --execution ID", "")]


def _few(tasks: list[str]) -> str:
    return ", ".join(tasks[:10]) + (", ..." if len(tasks) > 10 else "")
