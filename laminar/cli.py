"""The ``laminar`` command: run, compile, graph, show, and the runtime shim (plan, task)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from laminar import __version__
from laminar.errors import LaminarError

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
    _run_options(run)

    # `compile` parses its own arguments (laminar.compiler), because each target adds options.
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
    plan.add_argument("--max-legs", type=_positive, metavar="N", help="batch tasks into N legs")
    plan.add_argument(
        "--format",
        choices=["count", "list", "github", "json"],
        default="json",
        help="count: legs as a number; list: JSON list of legs; github: legs= and matrix= "
        "lines for $GITHUB_OUTPUT; json: the whole plan",
    )
    plan.add_argument("--output", metavar="FILE", help="write there (github: append) not stdout")
    task.add_argument("--leg", type=int, metavar="K", help="default: $LAMINAR_LEG")
    task.add_argument("--retry", action="store_true", help="honour the layer's Retry in-process")
    return parser


def _run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--execution", metavar="ID", help="execution id (default: a new one)")
    parser.add_argument(
        "--datastore",
        metavar="URL",
        help="where artifacts live: a directory or any fsspec URL such as s3://bucket/x "
        "(default: $LAMINAR_DATASTORE, else .laminar)",
    )
    parser.add_argument(
        "--workers", type=_positive, default=1, metavar="N", help="processes for ForEach tasks"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")


def script_options(argv: Sequence[str]) -> argparse.Namespace:
    """``laminar run``'s options for ``python flow.py [--execution ID] ...``."""
    parser = argparse.ArgumentParser(
        prog=f"python {os.path.basename(sys.argv[0]) or 'flow.py'}",
        description="Run this flow locally (the same options as laminar run).",
    )
    _run_options(parser)
    return parser.parse_args(list(argv))


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(argv if argv is not None else sys.argv[1:])
    try:
        if arguments[:1] == ["compile"]:
            from laminar.compiler import compile_main

            return compile_main(arguments[1:])
        args = build_parser().parse_args(arguments)
        return int(_dispatch(args))
    except LaminarError as error:
        print(f"laminar: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `laminar show ... | head`
        return 0


def _dispatch(args: argparse.Namespace) -> int:
    from laminar.loader import load_flow

    flow = load_flow(args.flow)
    if args.command == "run":
        from laminar.executor import run_flow_cli

        run_flow_cli(
            flow,
            execution=args.execution,
            datastore=args.datastore,
            workers=args.workers,
            reference=args.flow,
            quiet=args.quiet,
        )
        return 0
    if args.command == "graph":
        from laminar.graph import FORMATS

        sys.stdout.write(FORMATS[args.format](flow.ir()))
        return 0
    if args.command == "show":
        from laminar.show import show_command

        return show_command(flow, args)
    return _shim(flow, args)


def _shim(flow: type, args: argparse.Namespace) -> int:
    from laminar.artifacts import Execution
    from laminar.datastore import Datastore
    from laminar.flow import Flow
    from laminar.runtime import Runtime, TaskFailed

    assert issubclass(flow, Flow)
    execution_id = args.execution or os.environ.get("LAMINAR_EXECUTION")
    if not execution_id:
        raise LaminarError(
            f"laminar {args.command} needs an execution id: pass --execution ID or set "
            "LAMINAR_EXECUTION."
        )
    ir = flow.ir()
    runtime = Runtime(ir, Execution(Datastore(args.datastore), ir.name, execution_id))
    if args.command == "plan":
        record = runtime.plan(args.layer, max_legs=args.max_legs)
        _emit_plan(record.count, record.legs, args.format, args.output)
        return 0
    leg = args.leg
    if leg is None and os.environ.get("LAMINAR_LEG", "") != "":
        leg = int(os.environ["LAMINAR_LEG"])
    if ir.spec(args.layer).is_foreach and leg is None:
        raise LaminarError(
            f"Layer {args.layer} is a ForEach layer: pass --leg K (or LAMINAR_LEG) to run one "
            "leg of its tasks."
        )
    try:
        runtime.run_leg(args.layer, leg, retry=args.retry)
    except TaskFailed as failure:
        print(failure.user_traceback, file=sys.stderr, end="")
        print(f"laminar: error: {failure}", file=sys.stderr)
        return 1
    return 0


def _emit_plan(count: int, legs: int, style: str, output: str | None) -> None:
    if style == "count":
        text = f"{legs}\n"
    elif style == "list":
        text = json.dumps(list(range(legs))) + "\n"
    elif style == "github":
        matrix = json.dumps({"leg": list(range(legs))}, separators=(",", ":"))
        text = f"legs={legs}\ncount={count}\nmatrix={matrix}\n"
    else:
        text = json.dumps({"count": count, "legs": legs}) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    directory = os.path.dirname(output)
    if directory:
        os.makedirs(directory, exist_ok=True)
    with open(output, "a" if style == "github" else "w", encoding="utf-8") as handle:
        handle.write(text)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
