"""Recording each attempt of a task: its error and its output (``laminar.store.attempts``).

``Runtime`` opens one ``Recorder.attempt`` window per attempt, in the shim and in the local
executor alike, so whatever ran a task, ``laminar show`` and ``laminar logs`` read the same
records. A failed attempt's record is written at once (the process may be about to exit); the
records of attempts that finished or whose error was caught wait for their commit group and
are written just before it (``RecordingGroup``), one file for many tasks, so a fan-out of
small tasks that print pays one write per group, not one per task. An attempt that printed
nothing and raised nothing leaves no record.

Recording never changes how a task ends: a record that cannot be written (full disk) is a
warning on stderr.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence

from laminar.errors import LaminarError
from laminar.model.loader import FLOW_MODULE_PREFIX
from laminar.runtime.capture import Output, captured
from laminar.runtime.context import TaskFailed, user_traceback
from laminar.store.attempts import FAILED, LOG_LIMIT, AttemptRecord, write_records
from laminar.store.commits import TaskGroup
from laminar.store.execution import CAUGHT, FINISHED, Execution, Manifest
from laminar.text import printable_lines


class Recorder:
    """Collects the attempt records of one process's tasks and writes them."""

    def __init__(self, execution: Execution) -> None:
        self.execution = execution
        self.pending: list[AttemptRecord] = []

    def attempt(self, layer: str, task: str, number: int, *, grouped: bool) -> Attempt:
        """A window around one attempt: captures its output and records how it ended."""
        return Attempt(self, layer, task, number, grouped)

    def failed(self, layer: str, task: str, number: int, error: BaseException) -> None:
        """Record a failure outside an attempt window (an entry hook deciding a task)."""
        self.add(describe(layer, task, number, error, FAILED, time.time(), Output()))
        self.flush()

    def add(self, record: AttemptRecord) -> None:
        last = self.pending[-1] if self.pending else None
        if last is not None and not _follows(last, record):
            self.flush()
        self.pending.append(record)

    def flush(self) -> None:
        pending, self.pending = self.pending, []
        if not pending:
            return
        try:
            write_records(self.execution.objects, pending)
        except Exception as error:  # recording never changes how a task ends
            print(
                f"laminar: warning: the records of {pending[0].label} (attempt "
                f"{pending[0].attempt}) could not be written: {printable_lines(str(error))}",
                file=sys.stderr,
            )


class Attempt:
    """One attempt's window (a class, not a generator: every task of a fan-out pays for it).
    The code inside sets ``caught`` to the error its ``Catch`` caught."""

    def __init__(self, recorder: Recorder, layer: str, task: str, number: int, grouped: bool):
        self.recorder = recorder
        self.where = (layer, task, number)
        self.grouped = grouped
        self.caught: BaseException | None = None
        self.started = time.time()
        self.capture = captured()
        self.output = Output()

    def __enter__(self) -> Attempt:
        self.output = self.capture.__enter__()
        return self

    def __exit__(self, kind: object, error: BaseException | None, trace: object) -> None:
        self.capture.__exit__(None, None, None)
        recorder, output = self.recorder, self.output
        if error is not None:
            recorder.add(describe(*self.where, error, FAILED, self.started, output))
            recorder.flush()
            return
        if self.caught is not None:
            recorder.add(describe(*self.where, self.caught, CAUGHT, self.started, output))
        elif output.stdout or output.stderr:
            layer, task, number = self.where
            recorder.add(AttemptRecord(layer, task, number, FINISHED, stdout=output.stdout,
                                       stderr=output.stderr, started=self.started))  # fmt: skip
        if not self.grouped:
            recorder.flush()


#: Characters of an exception's message a record keeps (its traceback: ``LOG_LIMIT``).
MESSAGE_LIMIT = 10_000


def _safely(describe: Callable[[BaseException], str], error: BaseException) -> str:
    """``describe(error)``, or a note when that raises too (an exception whose ``__str__``
    fails must not hide the failure it reports)."""
    try:
        return describe(error)
    except Exception as other:
        return f"<{type(error).__name__} whose description raised {type(other).__name__}>"


def _follows(last: AttemptRecord, record: AttemptRecord) -> bool:
    """Whether ``record`` may share a file with the records before it (same layer, the same or
    the next task): a file names the span of tasks it holds."""
    if last.layer != record.layer or not (last.task.isdigit() and record.task.isdigit()):
        return False
    return int(record.task) in (int(last.task), int(last.task) + 1)


def describe(
    layer: str,
    task: str,
    number: int,
    error: BaseException,
    status: str,
    started: float,
    output: Output,
) -> AttemptRecord:
    """The record of an attempt that raised ``error`` (the user's, or laminar's own)."""
    traceback = ""
    if isinstance(error, TaskFailed):
        traceback = error.user_traceback
        error = error.__cause__ or error
    elif not isinstance(error, (LaminarError, KeyboardInterrupt, SystemExit)):
        traceback = _safely(user_traceback, error)
    kind = type(error)
    own = kind.__module__ == "builtins" or kind.__module__.startswith(FLOW_MODULE_PREFIX)
    module = "" if own else f"{kind.__module__}."  # the flow file's module name is laminar's
    message = _safely(str, error)[:MESSAGE_LIMIT]
    if not message and isinstance(error, KeyboardInterrupt):
        message = "interrupted"
    return AttemptRecord(
        layer,
        task,
        number,
        status,
        error_type=f"{module}{kind.__qualname__}",
        message=message,
        traceback=traceback[-LOG_LIMIT:],
        stdout=output.stdout,
        stderr=output.stderr,
        started=started,
    )


class RecordingGroup(TaskGroup):
    """A commit group that writes the pending attempt records just before its manifests, so a
    committed task's record is never lost to a crash between the two writes."""

    def __init__(
        self,
        execution: Execution,
        recorder: Recorder,
        then: Callable[[Sequence[Manifest]], None] | None = None,
    ) -> None:
        super().__init__(execution.commit_group)
        self.recorder = recorder
        #: Called with each group's manifests once committed (the cache entries of its tasks).
        self.then = then

    def flush(self) -> None:
        committed = self.pending
        self.recorder.flush()
        super().flush()
        if self.then is not None and committed:
            self.then(committed)
