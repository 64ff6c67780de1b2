"""``laminar show``: list executions, one execution's layers, or one attribute's value."""

from __future__ import annotations

import argparse
import re
import reprlib
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from laminar.configurations import serde
from laminar.errors import LaminarError, NotFinishedError
from laminar.model.flow import Flow
from laminar.runtime.results import (
    ExecutionResults,
    damaged_executions,
    list_executions,
    open_execution,
)
from laminar.runtime.script import with_reference
from laminar.runtime.status import (
    LayerReport,
    execution_status,
    partial,
    report_layer,
    summary,
    why_not,
)
from laminar.store.accessor import Accessor
from laminar.store.datastore import Datastore
from laminar.store.execution import Execution
from laminar.store.sources import JoinSource
from laminar.text import printable, printable_lines

if TYPE_CHECKING:
    from laminar.ir import FlowIR

_REPR = reprlib.Repr()
_REPR.maxstring = 80
_REPR.maxother = 80


def show_command(flow: type[Flow], args: argparse.Namespace) -> int:
    ir = flow.ir()
    store = Datastore(args.datastore)
    if args.execution is None and args.target is None:
        return _list(ir, store, args)
    results = ExecutionResults(ir, open_execution(store, ir.name, args.execution))
    if args.target is None:
        return _show_execution(ir, results, store, args)
    name, attribute = split_target(ir.order, args.target)
    spec = ir.spec(name)  # an unknown layer: an error listing the layers
    report = report_layer(results.execution, spec)
    if not attribute:
        lines, status = _layer_lines(results, report, args, details=True)
        state = summary(report)  # the layer is named already: how it ended, then its values
        shown = ([f"[{printable(state)}]"] if state else []) + [line[4:] for line in lines[1:]]
        if shown:
            _say("\n".join(shown))
        return status
    return _show_attribute(results, report, attribute, args)


def _list(ir: FlowIR, store: Datastore, args: argparse.Namespace) -> int:
    """Every execution: id, status, start, duration, inputs; the first failure below."""
    executions = list_executions(store, ir.name)
    damaged = damaged_executions(store, ir.name)
    if not executions and not damaged:
        _say(f"No executions of {printable(ir.name)} in {printable(store.url)}.")
    for execution in executions:
        handle = Execution(store, ir.name, execution, protocols=serde.PROTOCOLS)
        state = execution_status(ir, handle)
        started = _when(state.started)
        took = "" if state.duration is None else f"  took {_seconds(state.duration)}"
        given = f"  inputs: {_inputs(state.inputs)}" if state.inputs else ""
        _say(f"{printable(execution)}  {state.status}  started {started}{took}{given}")
        if state.why:
            _say(f"    {printable(state.why)}")
        if state.problems:
            more = f" (and {len(state.problems) - 1} more)" if len(state.problems) > 1 else ""
            first = with_reference(state.problems[0], args.flow, args.datastore)
            _say(f"    unreadable: {printable(first)}{more}")
    for directory in damaged:
        print(
            f"laminar: warning: {printable(directory)}: its execution.json is damaged; "
            f"resume it to write it again (laminar run {printable(args.flow)} "
            "--execution ID)",
            file=sys.stderr,
        )
    return 0


def _show_execution(
    ir: FlowIR, results: ExecutionResults, store: Datastore, args: argparse.Namespace
) -> int:
    reports = [report_layer(results.execution, spec) for spec in ir.specs()]
    state = execution_status(ir, results.execution, reports)
    _say(f"{printable(ir.name)} execution {printable(results.id)} ({printable(store.url)})")
    took = "" if state.duration is None else f", took {_seconds(state.duration)}"
    _say(f"  status: {state.status} (started {_when(state.started)}{took})")
    if state.inputs:
        _say(f"  inputs: {_inputs(state.inputs)}")
    status = 0
    shown = {p for r in reports for p in r.problems}
    for problem in (p for p in state.problems if p not in shown):  # the inputs, the record
        message = with_reference(problem, args.flow, args.datastore)
        print(f"laminar: error: {printable_lines(message)}", file=sys.stderr)
        status = 2
    for report in reports:
        lines, layer_status = _layer_lines(results, report, args, details=False)
        status = max(status, layer_status)
        _say("\n".join(lines))
    return status


def _layer_lines(
    results: ExecutionResults, report: LayerReport, args: argparse.Namespace, *, details: bool
) -> tuple[list[str], int]:
    """One layer as ``laminar show`` prints it, indented by two; and 2 when it is damaged."""
    name = report.name
    state = summary(report)
    lines = [f"  {printable(name)}" + (f" [{printable(state)}]" if state else "")]
    for attribute, value in _values(results, report):
        lines.append(f"    {printable(attribute)} = {value}")
    for line, trace in why_not(report, details=details):
        lines.append(f"    {printable(line)}")
        if details and trace:
            lines.extend(f"      {printable(t)}" for t in trace.splitlines())
    _problems(report, args)
    return lines, 2 if report.problems else 0


def _problems(report: LayerReport, args: argparse.Namespace) -> None:
    for problem in report.problems:
        message = with_reference(problem, args.flow, args.datastore)
        print(f"laminar: error: {printable_lines(message)}", file=sys.stderr)


def _values(results: ExecutionResults, report: LayerReport) -> list[tuple[str, str]]:
    """``(attribute, summary)`` of what the layer stored; a partial fan-out's committed tasks
    only; a value that cannot be loaded or shown says why, in its place."""
    if report.first is None:
        return []
    shown = []
    for attribute in sorted(report.first.attributes):
        try:
            value = _value(results, report, attribute)
            text = _summary(value, partial(report))
        except Exception as error:  # a renamed class, a damaged file: one line, the others go on
            text = f"<{unloadable(error)}>"
        shown.append((attribute, text))
    return shown


def _value(results: ExecutionResults, report: LayerReport, attribute: str) -> Any:
    if report.partial:  # the tasks that finished, not a join with a hole
        assert report.count is not None
        execution = results.execution
        source = JoinSource(execution.commits, execution.codec.decode, report.name, attribute,
                            report.count, report.finished)  # fmt: skip
        return Accessor(source)
    return getattr(results[report.name], attribute)


def _show_attribute(
    results: ExecutionResults, report: LayerReport, attribute: str, args: argparse.Namespace
) -> int:
    name = report.name
    if report.first is None and report.failures:  # nothing to read: say why, not "run it first"
        failure = report.failures[0]
        raise LaminarError(
            f"{failure.label} failed on attempt {failure.attempt} ({failure.error}), so "
            f"{name} has no attribute {attribute} in execution {results.id}; its output and "
            f"traceback: laminar logs {args.flow} {failure.label} --execution {results.id}"
        )
    if report.partial:
        assert report.count is not None
        print(
            f"laminar: warning: {printable(name)} committed {len(report.finished)} of "
            f"{report.count} tasks: showing those (laminar show {printable(args.flow)} "
            f"{printable(name)} --execution {printable(results.id)} says why)",
            file=sys.stderr,
        )
    try:
        value = _value(results, report, attribute)
    except NotFinishedError:  # why, read only now: a fan-out's summary reads every task
        state = str(summary(report))
        print(
            f"laminar: error: {printable(name)} did not finish ({printable(state)}), so it has "
            f"no attribute {printable(attribute)}.",
            file=sys.stderr,
        )
        return 2
    except LaminarError:
        raise
    except Exception as error:
        raise LaminarError(f"{name}.{attribute}: {unloadable(error)}") from None
    _problems(report, args)
    if isinstance(value, Accessor):
        index = -1
        try:
            for index, item in enumerate(value):  # positions, as a downstream layer indexes it
                _say(f"[{index}] {_repr(item)}")
        except LaminarError:
            raise
        except Exception as error:  # an element whose class was renamed: say so, not a traceback
            raise LaminarError(f"{name}.{attribute}[{index + 1}]: {unloadable(error)}") from None
    else:
        _say(_repr(value))
    return 2 if report.problems else 0


def unloadable(error: BaseException) -> str:
    """Why a stored value cannot be loaded, and the fix, on one line (no traceback)."""
    text = str(error)
    missing = re.search(r"Can't get attribute '([^']+)' on <module '([^']+)'", text)
    if missing:
        return (
            f"cannot load this value: its class {missing[1]} is no longer in module "
            f"{missing[2]} (renamed or removed?); show it with the code that wrote it, or "
            f"keep the old name as an alias ({missing[1]} = NewName)"
        )
    if isinstance(error, ImportError):
        module = getattr(error, "name", None) or text
        return (
            f"cannot load this value: its module {module} cannot be imported (renamed, "
            "removed, or not installed here); show it where the code that wrote it is installed"
        )
    return f"cannot load this value: {type(error).__name__}: {text}"


def split_target(layers: Sequence[str], target: str) -> tuple[str, str]:
    """``LAYER[.ATTR]`` as (layer, attribute); a layer whose name holds a dot is matched whole.

    The longest layer name that ``target`` equals, or starts with followed by a dot, wins;
    otherwise the text before the first dot is the layer (and is reported as unknown).
    """
    if target in layers:
        return target, ""
    prefixes = [name for name in layers if target.startswith(name + ".")]
    if prefixes:
        name = max(prefixes, key=len)
        return name, target[len(name) + 1 :]
    name, _, attribute = target.partition(".")
    return name, attribute


def _say(line: str) -> None:
    """One line of output. Names in it are escaped by the caller with ``printable``; values
    are reprs, whose control codes are escaped here (a repr spanning lines keeps them)."""
    print(printable_lines(line))


def _summary(value: object, partial: str = "") -> str:
    if isinstance(value, Accessor):
        head = value[:3]
        more = ", ..." if len(value) > 3 else ""
        inner = ", ".join(_repr(v, short=True) for v in head)
        return f"<{len(value)} items{partial}: [{inner}{more}]>"
    return _repr(value, short=True)


def _repr(value: object, *, short: bool = False) -> str:
    """``repr(value)``, or why it cannot be shown: a ``__repr__`` that raises is the value's
    problem, not the listing's."""
    try:
        return _REPR.repr(value) if short else repr(value)
    except Exception as error:
        return f"<{type(value).__name__} whose __repr__ raised {type(error).__name__}: {error}>"


def _when(stamp: float | None) -> str:
    if stamp is None:
        return "unknown"
    return datetime.fromtimestamp(stamp, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.2f}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


def _inputs(inputs: dict[str, Any] | None) -> str:
    return ", ".join(
        f"{printable(k)}={_repr(v, short=True)}" for k, v in sorted((inputs or {}).items())
    )


__all__ = ["LaminarError", "show_command"]
