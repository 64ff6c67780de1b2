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
from collections.abc import Callable, Sequence
from typing import Any

from laminar.contract import check_execution_id
from laminar.errors import LaminarError
from laminar.ir import FlowIR
from laminar.model.parameters import resolve_inputs
from laminar.runtime.context import TaskFailed
from laminar.runtime.executor import execute, new_execution_id
from laminar.runtime.options import (
    add_run_options,
    parse_params,
    use_logical_date,
    use_no_cache,
)
from laminar.runtime.parallel import WorkerDied
from laminar.runtime.progress import Progress
from laminar.store.datastore import Datastore
from laminar.store.execution import Execution
from laminar.text import printable, printable_lines, shell_word


def script_options(argv: Sequence[str]) -> argparse.Namespace:
    """``laminar run``'s options for ``python flow.py [--execution ID] ...``."""
    shown = shell_word(sys.argv[0] or "flow.py")  # as typed: the examples run from here
    parser = argparse.ArgumentParser(
        prog=f"python {shown}",
        description="Run this flow locally (the same options as laminar run).",
        epilog=f"examples:\n  python {shown}\n"
        f"  python {shown} --execution nightly-1 --workers 4\n"
        f"  laminar show {shown} --execution nightly-1   its results\n"
        f"  laminar compile {shown} --target airflow -o dags/flow.py   for an orchestrator\n\n"
        "A failing task stops the run (fail-fast); --keep-going runs every task and layer\n"
        "that does not depend on it first.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
    inputs: dict[str, Any] | None = None,
    rerun: Sequence[str] = (),
    keep_going: bool = False,
) -> tuple[int, str]:
    """Run a flow as a command: progress on stderr; returns (exit status, execution id).

    Status 1 when a task failed or a worker died (after the user's traceback and how to
    resume), 130 on Ctrl-C (with how to resume), 2 for any other laminar error (its message
    says the fix).
    """
    progress = Progress(quiet=quiet)
    store = Datastore(datastore)
    if rerun and not execution:
        progress.error("--rerun LAYER re-runs part of an execution: pass --execution ID too")
        return 2, ""
    if execution is None:
        execution_id = new_execution_id()
    else:
        execution_id = check_execution_id(execution, "--execution")
    shown = shell_word(execution_id)
    again = f" --datastore {shell_word(datastore)}" if datastore else ""
    resume = f"laminar run {shell_word(reference)} --execution {shown}{again}"
    started = time.monotonic()
    try:
        resumed = Execution(store, ir.name, execution_id).exists()
        if inputs or (ir.inputs and not resumed):  # refused before announcing the execution
            resolve_inputs(ir.inputs, dict(inputs or {}))
        verb = "resuming" if resumed else "running"
        progress.say(
            f"{verb} {printable(ir.name)}, execution {shown} (datastore {printable(store.shown)})"
        )
        execute(
            ir, store, execution_id, workers=workers, progress=progress, inputs=inputs,
            rerun=rerun, keep_going=keep_going,
        )  # fmt: skip
    except TaskFailed as failure:
        sys.stdout.flush()
        print(printable_lines(failure.user_traceback), file=sys.stderr, end="")
        progress.error(f"{failure}\n  fix it, then resume with: {resume}")
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
        progress.error(with_reference(str(error), reference, datastore))
        return 2, execution_id
    took = f"done in {time.monotonic() - started:.2f}s"
    if store.url.startswith("memory://"):  # gone with this process: no command can read it
        progress.say(f"{took}; the results are in this process's memory datastore")
    else:
        progress.say(
            f"{took}; inspect with: laminar show {shell_word(reference)} --execution {shown}{again}"
        )
    return 0, execution_id


def with_reference(message: str, reference: str, datastore: str | None = None) -> str:
    """``message`` with the placeholder FLOW of a suggested command replaced by ``reference``
    (and the datastore named, if one was given): the datastore, which writes those
    suggestions, does not know the flow file."""
    where = f"--datastore {datastore} " if datastore else ""
    return message.replace("laminar run FLOW ", f"laminar run {reference} {where}")


def run_script(
    build: Callable[[], FlowIR],
    module_file: str | None,
    *,
    execution: str | None = None,
    datastore: str | None = None,
    workers: int | None = None,
    inputs: dict[str, Any] | None = None,
) -> str:
    """``python flow.py``: options from the script's command line; exits on failure.

    Inputs given to ``flow(...)`` come first; ``--param`` adds to them.
    """
    given = script_options(sys.argv[1:])
    use_logical_date(given.logical_date)
    use_no_cache(given.no_cache)
    try:
        ir = build()
        merged = {**parse_params(given.param), **(inputs or {})}
    except LaminarError as error:
        print(f"laminar: error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
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
        inputs=merged,
        rerun=given.rerun,
        keep_going=given.keep_going,
    )
    if status:
        raise SystemExit(status)
    return execution_id
