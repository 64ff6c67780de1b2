"""The ``laminar`` command: run, compile, graph, show, and the runtime shim (plan, task, sync).

Every deployed task starts here, so module-level imports stay minimal: the shim's arguments
are read without argparse (``shim_args.py``), and each command's modules are imported in its
branch (the parser in ``arguments.py``, the shim commands in ``shim.py``).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from laminar.cli.checks import check_arguments, option_value
from laminar.cli.shim_args import parse_shim_arguments
from laminar.contract import SYNC
from laminar.errors import LaminarError
from laminar.text import printable_lines

if TYPE_CHECKING:
    import argparse
    from types import SimpleNamespace

    from laminar.model.flow import Flow


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(argv if argv is not None else sys.argv[1:])
    try:
        check_arguments(arguments)
        if arguments[:1] == ["compile"]:
            from laminar.cli.compile import compile_main

            return compile_main(arguments[1:])
        if arguments[:1] == ["run"] and any(
            word in ("--target", "--dry-run") or word.startswith("--target=") for word in arguments
        ):
            from laminar.cli.rehearse import rehearse_main

            return rehearse_main(arguments[1:])
        args: argparse.Namespace | SimpleNamespace | None = parse_shim_arguments(arguments)
        if args is None:
            from laminar.cli.arguments import build_parser, parse

            args = parse(build_parser(), arguments)
        return int(_dispatch(args))
    except LaminarError as error:
        from laminar.runtime.script import with_reference

        flow = arguments[1] if len(arguments) > 1 else "FLOW"
        datastore = option_value(arguments, "--datastore")
        message = with_reference(str(error), flow, datastore)
        print(f"laminar: error: {printable_lines(message)}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `laminar show ... | head`
        return 0


#: Command -> ``module:function(flow, args)`` that runs it, imported only when it is run.
COMMANDS = {
    "graph": "laminar.cli.graph:graph_command",
    "show": "laminar.cli.show:show_command",
    "cache": "laminar.cli.cache:cache_command",
    "logs": "laminar.cli.logs:logs_command",
}


def _dispatch(args: argparse.Namespace | SimpleNamespace) -> int:
    if args.command == SYNC:
        from laminar.cli.shim import sync_command

        return sync_command(args)
    from laminar.model.loader import load_flow

    flow = load_flow(args.flow)
    if args.command == "run":
        return _run(flow, args)
    if args.command in COMMANDS:  # the commands that read an execution or draw the graph
        module, _, name = COMMANDS[args.command].partition(":")
        command: Callable[[type[Flow], Any], int] = getattr(importlib.import_module(module), name)
        return command(flow, args)
    from laminar.cli.shim import shim_command

    return shim_command(flow, args)


def _run(flow: type[Flow], args: argparse.Namespace | SimpleNamespace) -> int:
    """``laminar run``: the whole flow on this machine, reported as a command does."""
    from laminar.runtime.options import parse_params, use_logical_date, use_no_cache
    from laminar.runtime.script import run_and_report

    use_logical_date(args.logical_date)
    use_no_cache(args.no_cache)
    status, _ = run_and_report(
        flow.ir(),
        execution=args.execution,
        datastore=args.datastore,
        workers=args.workers,
        reference=args.flow,
        quiet=args.quiet,
        inputs=parse_params(args.param),
        rerun=args.rerun,
        keep_going=args.keep_going,
    )
    return status


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
