"""``laminar show``: list executions, one execution's layers, or one attribute's value."""

from __future__ import annotations

import argparse
import reprlib
import sys

from laminar.errors import ArtifactError, LaminarError
from laminar.model.flow import Flow
from laminar.runtime.results import (
    ExecutionResults,
    damaged_executions,
    layer_state,
    list_executions,
    open_execution,
)
from laminar.runtime.script import with_reference
from laminar.store.accessor import Accessor
from laminar.store.datastore import Datastore

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
            print(f"No executions of {ir.name} in {store.url}.")
        for execution in executions:
            print(execution)
        for directory in damaged:
            print(
                f"laminar: warning: {directory}: its execution.json is damaged; resume it to "
                f"write it again (laminar run {args.flow} --execution ID)",
                file=sys.stderr,
            )
        return 0
    results = ExecutionResults(ir, open_execution(store, ir.name, args.execution))
    if args.target is None:
        status = 0
        print(f"{ir.name} execution {results.id} ({store.url})")
        for name in ir.order:
            layer = results[name]
            try:
                state = str(layer_state(results.execution, ir.spec(name)))
                lines = [f"  {name}" + (f" [{state}]" if state else "")]
                for attribute in layer.attributes():
                    lines.append(f"    {attribute} = {_summary(getattr(layer, attribute))}")
            except ArtifactError as error:  # one damaged layer must not hide the others
                lines = [f"  {name} [unreadable]"]
                message = with_reference(str(error), args.flow, args.datastore)
                print(f"laminar: error: {message}", file=sys.stderr)
                status = 2
            print("\n".join(lines))
        return status
    name, _, attribute = args.target.partition(".")
    layer = results[name]
    if not attribute:
        for item in layer.attributes():
            print(f"{item} = {_summary(getattr(layer, item))}")
        return 0
    value = getattr(layer, attribute)
    if isinstance(value, Accessor):
        for index, item in enumerate(value):
            print(f"[{index}] {item!r}")
    else:
        print(repr(value))
    return 0


def _summary(value: object) -> str:
    if isinstance(value, Accessor):
        head = value[:3]
        more = ", ..." if len(value) > 3 else ""
        inner = ", ".join(_REPR.repr(v) for v in head)
        return f"<{len(value)} items: [{inner}{more}]>"
    return _REPR.repr(value)


__all__ = ["LaminarError", "show_command"]
