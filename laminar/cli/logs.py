"""``laminar logs FLOW LAYER[INDEX]``: what a task printed, and its error, from the datastore.

Every attempt of a task that printed something or raised leaves an attempt record
(``laminar.store.attempts``), written by the shim and the local executor alike: this command
reads them back, whichever target ran the task.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence

from laminar.errors import LaminarError
from laminar.ir import FlowIR, LayerSpec
from laminar.model.flow import Flow
from laminar.runtime.results import open_execution
from laminar.runtime.script import with_reference
from laminar.store.attempts import AttemptRecord, read_records
from laminar.store.datastore import Datastore
from laminar.store.execution import MAIN, Execution
from laminar.text import printable, printable_lines

_INDEXED = re.compile(r"(.+)\[(\d+)\]")


def add_logs_arguments(parser: argparse.ArgumentParser) -> None:
    from laminar.cli.parser import Parser
    from laminar.runtime.options import positive

    assert isinstance(parser, Parser)
    parser.intermixed = True  # the task may follow the options
    parser.add_argument(
        "target", metavar="LAYER[INDEX]", help="a layer, or one task of a ForEach layer: Process[3]"
    )
    parser.add_argument("--execution", metavar="ID", help="execution id (default: the latest)")
    parser.add_argument("--attempt", type=positive, metavar="N", help="only attempt N")


def logs_command(flow: type[Flow], args: argparse.Namespace) -> int:
    ir = flow.ir()
    spec, index = split_task(ir, args.target)
    execution = open_execution(Datastore(args.datastore), ir.name, args.execution)
    task = _task(execution, spec, index)
    records = read_records(execution.objects, spec.name, task)
    for problem in records.problems:
        message = with_reference(problem, args.flow, args.datastore)
        print(f"laminar: error: {printable_lines(message)}", file=sys.stderr)
    shown = [r for r in records.records if args.attempt is None or r.attempt == args.attempt]
    if not shown:
        _nothing(execution, spec, task, args.attempt)
    for record in shown:
        _show(record)
    return 2 if records.problems else 0


def split_task(ir: FlowIR, target: str) -> tuple[LayerSpec, int | None]:
    """``LAYER`` or ``LAYER[INDEX]`` as (the layer, the index); a layer whose own name ends
    in ``[...]`` is matched whole first."""
    if target in ir.order:
        return ir.spec(target), None
    match = _INDEXED.fullmatch(target)
    if match is None:
        return ir.spec(target), None  # unknown: the error lists the layers
    return ir.spec(match[1]), int(match[2])


def _task(execution: Execution, spec: LayerSpec, index: int | None) -> str | None:
    """The task to show (``None``: every task of a ForEach layer), checked against the plan."""
    name = printable(spec.name)
    if not spec.is_foreach:
        if index is not None:
            raise LaminarError(
                f"Layer {name} has no ForEach, so it has one task: name it without [{index}] "
                f"(laminar logs FLOW {name})."
            )
        return MAIN
    if index is None:
        return None
    try:
        plan = execution.commits.read_plan(spec.name)
    except LaminarError:  # a damaged plan: the task's records may still be readable
        plan = None
    if plan is not None and not plan.skipped and index >= plan.count:
        last = f"0-{plan.count - 1}" if plan.count else "none"
        raise LaminarError(
            f"{name}[{index}] does not exist in execution {printable(execution.id)}: {name} "
            f"has {plan.count} tasks ({last})."
        )
    return str(index)


def _nothing(execution: Execution, spec: LayerSpec, task: str | None, attempt: int | None) -> None:
    where = printable(spec.name) + ("" if task in (None, MAIN) else f"[{task}]")
    if attempt is not None:
        why = f"has no record of attempt {attempt}"
    elif task is None or execution.commits.read_manifest(spec.name, task) is not None:
        why = "printed nothing and raised nothing (no record is kept then)"
    else:
        why = "has not run (no commit and no record)"
    print(
        f"laminar: {where} in execution {printable(execution.id)} {why}.",
        file=sys.stderr,
    )


def _show(record: AttemptRecord) -> None:
    """One attempt: a header, then its stdout, stderr and traceback (each only if any)."""
    how = record.status + (f": {record.error}" if record.error else "")
    print(printable_lines(f"==> {record.label} attempt {record.attempt}, {how} <=="))
    sections: Sequence[tuple[str, str]] = (
        ("stdout", record.stdout),
        ("stderr", record.stderr),
        ("traceback", record.traceback),
    )
    for title, text in sections:
        if text:
            print(f"--- {title} ---")
            print(printable_lines(text), end="" if text.endswith("\n") else "\n")
    sys.stdout.flush()
