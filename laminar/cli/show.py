"""``laminar show``: list executions, one execution's layers, or one attribute's value."""

from __future__ import annotations

import argparse
import reprlib
import sys
from collections.abc import Sequence

from laminar.errors import ArtifactError, LaminarError, NotFinishedError
from laminar.model.flow import Flow
from laminar.runtime.results import (
    ExecutionResults,
    LayerResults,
    damaged_executions,
    layer_summary,
    list_executions,
    open_execution,
)
from laminar.runtime.script import with_reference
from laminar.store.accessor import Accessor
from laminar.store.datastore import Datastore
from laminar.store.inputs import read_inputs
from laminar.text import printable, printable_lines

_REPR = reprlib.Repr()
_REPR.maxstring = 80
_REPR.maxother = 80


def show_command(flow: type[Flow], args: argparse.Namespace) -> int:
    ir = flow.ir()
    store = Datastore(args.datastore)
    if args.execution is None and args.target is None:
        executions = list_executions(store, ir.name)
        damaged = damaged_executions(store, ir.name)
        if not executions and not damaged:
            _say(f"No executions of {printable(ir.name)} in {printable(store.shown)}.")
        for execution in executions:
            _say(printable(execution))
        for directory in damaged:
            print(
                f"laminar: warning: {printable(directory)}: its execution.json is damaged; "
                f"resume it to write it again (laminar run {printable(args.flow)} "
                "--execution ID)",
                file=sys.stderr,
            )
        return 0
    results = ExecutionResults(ir, open_execution(store, ir.name, args.execution))
    if args.target is None:
        status = 0
        _say(f"{printable(ir.name)} execution {printable(results.id)} ({printable(store.shown)})")
        inputs = read_inputs(results.execution.objects)
        if inputs:
            given = ", ".join(f"{printable(k)}={_REPR.repr(v)}" for k, v in sorted(inputs.items()))
            _say(f"  inputs: {given}")
        for name in ir.order:
            layer = results[name]
            try:
                state = str(layer_summary(results.execution, ir.spec(name)))
                lines = [f"  {printable(name)}" + (f" [{printable(state)}]" if state else "")]
                for attribute in LayerResults.attributes(layer):
                    summary = _summary(getattr(layer, attribute))
                    lines.append(f"    {printable(attribute)} = {summary}")
            except ArtifactError as error:  # one damaged layer must not hide the others
                lines = [f"  {printable(name)} [unreadable]"]
                message = with_reference(str(error), args.flow, args.datastore)
                print(f"laminar: error: {printable_lines(message)}", file=sys.stderr)
                status = 2
            _say("\n".join(lines))
        return status
    name, attribute = split_target(ir.order, args.target)
    layer = results[name]
    if not attribute:
        state = str(layer_summary(results.execution, ir.spec(name)))
        if state:  # how it ended: skipped, caught, some tasks skipped
            _say(f"[{printable(state)}]")
        for item in LayerResults.attributes(layer):
            _say(f"{printable(item)} = {_summary(getattr(layer, item))}")
        return 0
    try:
        value = getattr(layer, attribute)
    except NotFinishedError:  # why, read only now: a fan-out's summary reads every task
        state = str(layer_summary(results.execution, ir.spec(name)))
        print(
            f"laminar: error: {printable(name)} did not finish ({printable(state)}), so it has "
            f"no attribute {printable(attribute)}.",
            file=sys.stderr,
        )
        return 2
    if isinstance(value, Accessor):
        for index, item in enumerate(value):
            _say(f"[{index}] {item!r}")
    else:
        _say(repr(value))
    return 0


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


def _summary(value: object) -> str:
    if isinstance(value, Accessor):
        head = value[:3]
        more = ", ..." if len(value) > 3 else ""
        inner = ", ".join(_REPR.repr(v) for v in head)
        return f"<{len(value)} items: [{inner}{more}]>"
    return _REPR.repr(value)


__all__ = ["LaminarError", "show_command"]
