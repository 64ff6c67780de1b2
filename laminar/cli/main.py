"""The ``laminar`` command: run, compile, graph, show, and the runtime shim (plan, task)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from laminar import __version__
from laminar.cli.shim_args import parse_shim_arguments
from laminar.contract import PlanFormat
from laminar.errors import LaminarError

if TYPE_CHECKING:
    import argparse
    from types import SimpleNamespace

EXAMPLES = """\
examples:
  laminar run examples/grid.py                      run a flow locally (.laminar/ datastore)
  laminar run examples/grid.py --workers 2          ForEach tasks in 2 processes
  laminar show examples/grid.py Process.foo         read a result of the latest run
  laminar graph examples/grid.py --format mermaid   the flow's graph
  laminar compile examples/grid.py --target argo --image ghcr.io/acme/flows:1.4 \\
      --datastore s3://bucket/laminar -o grid.yaml
  laminar compile examples/grid.py --target airflow -o dags/grid_flow.py
  laminar compile examples/grid.py --target github -o .github/workflows/grid.yml

FLOW is path/to/flow.py, or path/to/flow.py:FlowName when the file defines several flows.
The datastore defaults to $LAMINAR_DATASTORE, else .laminar/ in the working directory.
"""


def build_parser() -> argparse.ArgumentParser:
    # Imported here: the shim commands of deployed tasks read their arguments without it.
    import argparse

    from laminar.runtime.options import add_run_options, positive

    parser = argparse.ArgumentParser(
        prog="laminar",
        description="Write a workflow once as Python classes; run it locally or compile it "
        "to Argo Workflows, Apache Airflow or GitHub Actions.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"laminar {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

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
        sub.add_argument(
            "--datastore",
            metavar="URL",
            help="where artifacts live: a directory or any fsspec URL such as s3://bucket/x "
            "(default: $LAMINAR_DATASTORE, else .laminar)",
        )

    run = command(
        "run",
        "Run the whole flow on this machine.",
        "examples:\n  laminar run examples/grid.py\n"
        "  laminar run examples/grid.py --execution nightly-1 --workers 4\n\n"
        "Running again with the same --execution resumes: committed tasks are skipped.",
    )
    add_run_options(run)

    # `compile` parses its own arguments (laminar.cli.compile), because each target adds options.
    compile_ = commands.add_parser(
        "compile",
        help="Compile the flow for an orchestrator (laminar compile --help for options).",
        add_help=False,
    )
    compile_.add_argument("rest", nargs=argparse.REMAINDER)

    graph = command("graph", "Print the flow's graph of layers.")
    graph.add_argument(
        "--format", choices=["text", "mermaid", "dot", "json"], default="text", help="output format"
    )

    show = command(
        "show",
        "Show an execution's results.",
        "examples:\n  laminar show flow.py                    list executions\n"
        "  laminar show flow.py --execution ID     layers and attributes of one\n"
        "  laminar show flow.py Process.foo        one attribute of the latest run",
    )
    show.add_argument("target", nargs="?", metavar="LAYER[.ATTR]", help="what to show")
    show.add_argument("--execution", metavar="ID", help="execution id (default: the latest)")
    datastore(show)

    shim_help = "(runtime shim, used by generated workflows)"
    plan = command("plan", f"Count a ForEach layer's tasks and commit its plan {shim_help}.")
    task = command("task", f"Run one layer, or one leg of a ForEach layer {shim_help}.")
    for sub in (plan, task):
        sub.add_argument("--layer", required=True, help="the layer's name")
        sub.add_argument("--execution", metavar="ID", help="default: $LAMINAR_EXECUTION")
        datastore(sub)
    plan.add_argument("--max-legs", type=positive, metavar="N", help="batch tasks into N legs")
    plan.add_argument(
        "--format",
        choices=[f.value for f in PlanFormat],
        default="json",
        help="count: legs as a number; list: JSON list of legs; github: legs= and matrix= "
        "lines for $GITHUB_OUTPUT; json: the whole plan",
    )
    plan.add_argument("--output", metavar="FILE", help="write there (github: append) not stdout")
    task.add_argument("--leg", type=int, metavar="K", help="default: $LAMINAR_LEG")
    task.add_argument("--retry", action="store_true", help="honour the layer's Retry in-process")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(argv if argv is not None else sys.argv[1:])
    try:
        if arguments[:1] == ["compile"]:
            from laminar.cli.compile import compile_main

            return compile_main(arguments[1:])
        args = parse_shim_arguments(arguments) or build_parser().parse_args(arguments)
        return int(_dispatch(args))
    except LaminarError as error:
        print(f"laminar: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `laminar show ... | head`
        return 0


def _dispatch(args: argparse.Namespace | SimpleNamespace) -> int:
    from laminar.model.loader import load_flow

    flow = load_flow(args.flow)
    if args.command == "run":
        from laminar.runtime.script import run_and_report

        status, _ = run_and_report(
            flow.ir(),
            execution=args.execution,
            datastore=args.datastore,
            workers=args.workers,
            reference=args.flow,
            quiet=args.quiet,
        )
        return status
    if args.command == "graph":
        from laminar.cli.graph import FORMATS

        sys.stdout.write(FORMATS[args.format](flow.ir()))
        return 0
    if args.command == "show":
        import argparse

        from laminar.cli.show import show_command

        assert isinstance(args, argparse.Namespace)  # only the shim skips argparse
        return show_command(flow, args)
    from laminar.runtime import shim

    if args.command == "plan":
        shim.plan(
            flow.ir(),
            args.layer,
            execution=args.execution,
            datastore=args.datastore,
            max_legs=args.max_legs,
            fmt=PlanFormat(args.format),
            output=args.output,
        )
        return 0
    return shim.task(
        flow.ir(),
        args.layer,
        execution=args.execution,
        datastore=args.datastore,
        leg=args.leg,
        retry=args.retry,
    )


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
