"""The ``laminar`` command: run, compile, graph, show, and the runtime shim (plan, task, sync)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from laminar import __version__
from laminar.cli.checks import check_arguments, option_value
from laminar.cli.shim_args import DATASTORE_HELP, add_shim_options, parse_shim_arguments
from laminar.contract import (
    EXIT,
    PLAN,
    SYNC,
    SYNC_CHANGED,
    SYNC_SNAPSHOT,
    TASK,
    PlanFormat,
)
from laminar.errors import LaminarError
from laminar.text import printable, printable_lines

if TYPE_CHECKING:
    import argparse
    from types import SimpleNamespace

    from laminar.cli.parser import Parser
    from laminar.model.flow import Flow


def build_parser() -> argparse.ArgumentParser:
    # Imported here: the shim commands of deployed tasks read their arguments without them.
    import argparse

    from laminar.cli import examples
    from laminar.cli.cache import add_cache_arguments
    from laminar.cli.logs import add_logs_arguments
    from laminar.cli.parser import Parser
    from laminar.runtime.options import add_run_options

    parser = Parser(
        prog="laminar",
        description="Write a workflow once as Python classes; run it locally or compile it "
        "to Argo Workflows, Apache Airflow or GitHub Actions.",
        epilog=examples.TOP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"laminar {__version__} (the laminar-compiler distribution: Python flows run "
        "locally or compiled to Argo Workflows, Apache Airflow and GitHub Actions)",
    )
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=Parser
    )

    def command(name: str, help: str, epilog: str = "") -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name,
            help=help,
            description=help,
            epilog=epilog or None,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.add_argument("flow", metavar="FLOW", help="path/to/flow.py[:FlowName]")
        return sub

    def datastore(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--datastore", metavar="URL", help=DATASTORE_HELP)

    run = command("run", "Run the whole flow on this machine.", examples.RUN)
    add_run_options(run)

    # `compile` parses its own arguments (laminar.cli.compile), because each target adds options.
    compile_ = commands.add_parser(
        "compile",
        help="Compile the flow for an orchestrator (laminar compile --help for options).",
        add_help=False,
    )
    compile_.add_argument("rest", nargs=argparse.REMAINDER)

    graph = command("graph", "Print the flow's graph of layers.", examples.GRAPH)
    graph.add_argument(
        "--format", choices=["text", "mermaid", "dot", "json"], default="text", help="output format"
    )
    graph.add_argument(
        "--target",
        choices=["airflow", "argo", "github"],
        help="show the jobs the target would run instead (laminar run --target T --dry-run)",
    )

    show = command("show", "Show an execution's results.", examples.SHOW)
    assert isinstance(show, Parser)
    show.intermixed = True
    show.add_argument("target", nargs="?", metavar="LAYER[.ATTR]", help="what to show")
    show.add_argument("--execution", metavar="ID", help="execution id (default: the latest)")
    datastore(show)

    logs = command("logs", "Show what a task printed and its error.", examples.LOGS)
    add_logs_arguments(logs)
    datastore(logs)

    cache = command("cache", "List, clear or explain the flow's cache entries.", "")
    add_cache_arguments(cache)
    datastore(cache)

    add_shim_commands(command)
    exit_ = command(
        EXIT, f"Run the flow's exit hooks once for an execution that ended {SHIM_HELP}."
    )
    exit_.add_argument("--execution", metavar="ID", help="default: $LAMINAR_EXECUTION")
    exit_.add_argument(
        "--fail-if-run-failed",
        action="store_true",
        help="exit with status 1 when the run failed (after running the hooks)",
    )
    datastore(exit_)
    add_sync(commands, SHIM_HELP)
    return parser


SHIM_HELP = "(runtime shim, used by generated workflows)"


def add_shim_commands(command: Callable[[str, str, str], argparse.ArgumentParser]) -> None:
    """``laminar plan`` and ``laminar task``, their options from ``shim_args.SHIM_OPTIONS``."""
    from laminar.cli import examples

    plan = command(
        PLAN,
        f"Count a ForEach layer's tasks, or run a layer's entry hooks, and commit its plan "
        f"{SHIM_HELP}.",
        examples.PLAN,
    )
    add_shim_options(plan, PLAN)
    task = command(
        TASK, f"Run one layer, or one leg of a ForEach layer {SHIM_HELP}.", examples.TASK
    )
    add_shim_options(task, TASK)


def add_sync(commands: argparse._SubParsersAction[Parser], shim_help: str) -> None:
    """``laminar sync``: the one shim command without a FLOW (it sees only files)."""
    sync = commands.add_parser(
        SYNC,
        help=f"Carry a local datastore between jobs as artifacts {shim_help}.",
        description="Record a local datastore's files, then copy out the ones a job added or "
        "changed (GitHub Actions uploads them as the job's artifact).",
    )
    actions = sync.add_subparsers(dest="sync_action", metavar="ACTION", required=True)
    snapshot = actions.add_parser(
        SYNC_SNAPSHOT, help="record the path and SHA-256 of every file in the datastore"
    )
    snapshot.add_argument("--to", required=True, metavar="FILE", help="where to write it")
    since = actions.add_parser(
        SYNC_CHANGED, help="copy the files new or changed since a snapshot, keeping their paths"
    )
    since.add_argument("--since", required=True, metavar="FILE", help="the snapshot")
    since.add_argument("--into", required=True, metavar="DIR", help="where to copy them")
    for sub in (snapshot, since):
        sub.add_argument(
            "--datastore", metavar="DIR", help="the local datastore (default: $LAMINAR_DATASTORE)"
        )


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
        args = parse_shim_arguments(arguments) or parse(build_parser(), arguments)
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


def parse(parser: argparse.ArgumentParser, arguments: list[str]) -> argparse.Namespace:
    """Parse ``arguments``; ``show FLOW --execution ID L.attr`` works too.

    argparse matches both positionals of ``show`` (FLOW and the optional target) at the first
    one, so a target after an option is left over; it is taken as the target here.
    """
    args, extra = parser.parse_known_args(arguments)
    show = args.command == "show" and args.target is None
    if show and len(extra) == 1 and not extra[0].startswith("-"):
        args.target, extra = extra[0], []
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return args


#: Command -> ``module:function(flow, args)`` that runs it, imported only when it is run.
COMMANDS = {
    "graph": "laminar.cli.graph:graph_command",
    "show": "laminar.cli.show:show_command",
    "cache": "laminar.cli.cache:cache_command",
    "logs": "laminar.cli.logs:logs_command",
}


def _dispatch(args: argparse.Namespace | SimpleNamespace) -> int:
    if args.command == SYNC:
        return _sync(args)
    from laminar.model.loader import load_flow

    flow = load_flow(args.flow)
    if args.command == "run":
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
    if args.command in COMMANDS:  # the commands that read an execution or draw the graph
        module, _, name = COMMANDS[args.command].partition(":")
        command: Callable[[type[Flow], Any], int] = getattr(importlib.import_module(module), name)
        return command(flow, args)
    from laminar.runtime import shim

    if args.command == EXIT:
        return shim.exit_hooks(
            flow.ir(),
            execution=args.execution,
            datastore=args.datastore,
            fail_if_run_failed=args.fail_if_run_failed,
        )
    if args.command == "plan":
        return shim.plan(
            flow.ir(),
            args.layer,
            execution=args.execution,
            datastore=args.datastore,
            max_legs=args.max_legs,
            fmt=PlanFormat(args.format),
            output=args.output,
            resources_output=args.resources_output,
            gpu_resource=args.gpu_resource,
        )
    if len(args.then_plan) != len(args.plan_output):
        raise LaminarError("laminar task: give one --plan-output FILE per --then-plan LAYER.")
    return shim.task(
        flow.ir(),
        args.layer,
        execution=args.execution,
        datastore=args.datastore,
        leg=args.leg,
        owns_attempts=args.owns_attempts,
        then_plan=list(zip(args.then_plan, args.plan_output, strict=True)),
        plan_resources=dict(_layer_file(text) for text in args.plan_resources),
        gpu_resource=args.gpu_resource,
        max_legs=args.max_legs,
        fmt=PlanFormat(args.format),
        skipped_status=args.skipped_status,
        finished_output=args.finished_output,
    )


def _layer_file(text: str) -> tuple[str, str]:
    """``--plan-resources=LAYER=FILE`` as (layer, file): a layer name is an identifier."""
    layer, equals, path = text.partition("=")
    if not (equals and layer.isidentifier() and path):
        raise LaminarError(
            f"laminar task: --plan-resources={printable(text)} must be LAYER=FILE, such as "
            "--plan-resources=Train=/tmp/laminar/resources/train."
        )
    return layer, path


def _sync(args: argparse.Namespace | SimpleNamespace) -> int:
    from laminar.runtime import sync

    if args.sync_action == SYNC_SNAPSHOT:
        count = sync.snapshot(args.datastore, args.to)
        print(f"laminar sync: recorded {count} file(s) in {args.to}", file=sys.stderr)
        return 0
    copied = sync.changed(args.datastore, args.since, args.into)
    print(f"laminar sync: {len(copied)} new or changed file(s) in {args.into}", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
