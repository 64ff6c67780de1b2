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
from laminar.runtime.executor import execute, new_execution_id
from laminar.runtime.options import add_run_options
from laminar.runtime.progress import Progress
from laminar.runtime.task import TaskFailed
from laminar.store.datastore import Datastore
from laminar.store.execution import Execution


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
) -> tuple[int, str]:
    """Run a flow as a command: progress on stderr; returns (exit status, execution id).

    Status 1 when a task failed (after the user's traceback and how to resume), 2 for any
    other laminar error (its message says the fix).
    """
    progress = Progress(quiet=quiet)
    store = Datastore(datastore)
    execution_id = execution or new_execution_id()
    resumed = Execution(store, ir.name, execution_id).exists()
    verb = "resuming" if resumed else "running"
    progress.say(f"{verb} {ir.name}, execution {execution_id} (datastore {store.url})")
    started = time.monotonic()
    try:
        execute(ir, store, execution_id, workers=workers, progress=progress)
    except TaskFailed as failure:
        sys.stdout.flush()
        print(failure.user_traceback, file=sys.stderr, end="")
        progress.say(
            f"error: {failure}\n  fix it, then resume with: laminar run {reference} "
            f"--execution {execution_id}" + (f" --datastore {datastore}" if datastore else "")
        )
        return 1, execution_id
    except LaminarError as error:
        sys.stdout.flush()
        progress.say(f"error: {error}")
        return 2, execution_id
    progress.say(
        f"done in {time.monotonic() - started:.2f}s; inspect with: laminar show {reference} "
        f"--execution {execution_id}"
    )
    return 0, execution_id


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
    )
    if status:
        raise SystemExit(status)
    return execution_id
