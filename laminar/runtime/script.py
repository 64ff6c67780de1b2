"""Running a whole flow as a command does: ``laminar run FLOW`` and ``python flow.py``.

Both report progress on stderr, print the user's traceback and the resume command when a task
fails, and turn the outcome into an exit status. The options are declared here once; the CLI
adds them to ``laminar run``, and a flow file run as a script parses them from ``sys.argv``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Sequence

from laminar.errors import LaminarError
from laminar.ir import FlowIR
from laminar.runtime.executor import WorkerDied, execute, new_execution_id
from laminar.runtime.progress import Progress
from laminar.runtime.task import TaskFailed
from laminar.store.datastore import Datastore
from laminar.store.execution import Execution


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """The options of ``laminar run`` (and of ``python flow.py``)."""
    parser.add_argument("--execution", metavar="ID", help="execution id (default: a new one)")
    parser.add_argument(
        "--datastore",
        metavar="URL",
        help="where artifacts live: a directory or any fsspec URL such as s3://bucket/x "
        "(default: $LAMINAR_DATASTORE, else .laminar)",
    )
    parser.add_argument(
        "--workers", type=positive, default=1, metavar="N", help="processes for ForEach tasks"
    )
    parser.add_argument(
        "--rerun",
        action="append",
        default=[],
        metavar="LAYER",
        help="with --execution: delete LAYER's results and those of every layer after it, "
        "then run (repeatable; the fix for a damaged artifact)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")


def positive(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def script_options(argv: Sequence[str]) -> argparse.Namespace:
    """``laminar run``'s options for ``python flow.py [--execution ID] ...``."""
    parser = argparse.ArgumentParser(
        prog=f"python {os.path.basename(sys.argv[0]) or 'flow.py'}",
        description="Run this flow locally (the same options as laminar run).",
    )
    add_run_options(parser)
    return parser.parse_args(list(argv))


def run_and_report(
    ir: FlowIR,
    *,
    execution: str | None,
    datastore: str | None,
    workers: int,
    reference: str,
    quiet: bool,
    rerun: Sequence[str] = (),
) -> tuple[int, str]:
    """Run a flow as a command: progress on stderr; returns (exit status, execution id).

    Status 1 when a task failed or a worker died (after the user's traceback and how to
    resume), 130 on Ctrl-C (with how to resume), 2 for any other laminar error (its message
    says the fix).
    """
    progress = Progress(quiet=quiet)
    store = Datastore(datastore)
    if rerun and not execution:
        progress.say("error: --rerun LAYER re-runs part of an execution: pass --execution ID too")
        return 2, ""
    execution_id = execution or new_execution_id()
    resume = f"laminar run {reference} --execution {execution_id}" + (
        f" --datastore {datastore}" if datastore else ""
    )
    started = time.monotonic()
    try:
        resumed = Execution(store, ir.name, execution_id).exists()
        verb = "resuming" if resumed else "running"
        progress.say(f"{verb} {ir.name}, execution {execution_id} (datastore {store.url})")
        execute(ir, store, execution_id, workers=workers, progress=progress, rerun=rerun)
    except TaskFailed as failure:
        sys.stdout.flush()
        print(failure.user_traceback, file=sys.stderr, end="")
        progress.say(f"error: {failure}\n  fix it, then resume with: {resume}")
        return 1, execution_id
    except WorkerDied as error:
        sys.stdout.flush()
        progress.say(f"error: {error}\n  resume with: {resume}")
        return 1, execution_id
    except KeyboardInterrupt:
        sys.stdout.flush()
        progress.say(f"interrupted; committed tasks are kept. Resume with: {resume}")
        return 130, execution_id
    except LaminarError as error:
        sys.stdout.flush()
        progress.say(f"error: {with_reference(str(error), reference, datastore)}")
        return 2, execution_id
    progress.say(
        f"done in {time.monotonic() - started:.2f}s; inspect with: laminar show {reference} "
        f"--execution {execution_id}"
    )
    return 0, execution_id


def with_reference(message: str, reference: str, datastore: str | None = None) -> str:
    """``message`` with the placeholder FLOW of a suggested command replaced by ``reference``
    (and the datastore named, if one was given): the datastore, which writes those
    suggestions, does not know the flow file."""
    where = f"--datastore {datastore} " if datastore else ""
    return message.replace("laminar run FLOW ", f"laminar run {reference} {where}")


def run_script(
    ir: FlowIR,
    module_file: str | None,
    *,
    execution: str | None = None,
    datastore: str | None = None,
    workers: int | None = None,
) -> str:
    """``python flow.py``: options from the script's command line; exits on failure."""
    given = script_options(sys.argv[1:])
    reference = module_file or "FLOW"
    with contextlib.suppress(ValueError):
        reference = os.path.relpath(reference)
    status, execution_id = run_and_report(
        ir,
        execution=execution or given.execution,
        datastore=datastore or given.datastore,
        workers=workers or given.workers,
        reference=reference,
        quiet=given.quiet,
        rerun=given.rerun,
    )
    if status:
        raise SystemExit(status)
    return execution_id
