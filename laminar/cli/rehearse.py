"""``laminar run FLOW --target T``: rehearse the deployment locally; ``--dry-run``: show it.

Parsed apart from ``laminar run`` (like ``laminar compile``) because each target adds its own
options. The job graph is the one ``laminar compile`` would render; ``laminar.backends.
rehearse`` runs it.
"""

from __future__ import annotations

import argparse
import sys

from laminar.backends import TARGETS, dialect_class
from laminar.cli.compile import flow_reference
from laminar.cli.parser import Parser
from laminar.errors import LaminarError
from laminar.runtime.options import add_run_options, parse_params

EPILOG = """\
examples:
  laminar run examples/grid.py --target github --max-legs 2
  laminar run examples/branching.py --target argo --workers 4
  laminar run examples/grid.py --target airflow --dry-run
"""


def build_parser(target: str | None) -> argparse.ArgumentParser:
    parser = Parser(
        prog="laminar run",
        description="Run the flow as TARGET would run it: each job of the file `laminar "
        "compile` writes as a process of its own, on this machine.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("flow", metavar="FLOW", help="path/to/flow.py[:FlowName]")
    parser.add_argument(
        "--target", choices=sorted(TARGETS), help="rehearse the deployment on this target"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print the jobs and what each runs; run nothing"
    )
    parser.add_argument("--image", help="as for laminar compile (the jobs run here, not in it)")
    add_run_options(parser)
    if target in TARGETS:
        cls = dialect_class(target)
        cls.add_arguments(parser.add_argument_group(f"{target} options ({cls.description})"))
    return parser


def rehearse_main(argv: list[str]) -> int:
    from laminar.backends.lowering import CompileOptions, lower
    from laminar.backends.rehearse import Rehearsal, describe
    from laminar.model.loader import load_flow
    from laminar.runtime.executor import new_execution_id
    from laminar.store.datastore import resolve_url

    target = _target(argv)
    args = build_parser(target).parse_args(argv)
    if args.target is None:
        raise LaminarError("laminar run --dry-run shows a target's jobs: add --target T.")
    flow = load_flow(args.flow)
    ir = flow.ir()
    cls = dialect_class(args.target)
    datastore = resolve_url(args.datastore)
    options = CompileOptions(
        flow_ref=flow_reference(args.flow, None, ir.name),
        datastore=datastore,
        image=args.image or "laminar-rehearsal",
        target_options=cls.options_from(args),
    )
    dialect = cls(options)
    graph = lower(ir, options, dialect.traits, args.target)
    if args.dry_run:
        sys.stdout.write(describe(graph, args.target))
        return 0
    execution = args.execution or new_execution_id()
    say = (lambda line: None) if args.quiet else _say
    say(f"rehearsing {ir.name} on {args.target}, execution {execution}")
    rehearsal = Rehearsal(
        graph,
        dialect.traits,
        execution=execution,
        datastore=datastore,
        inputs=parse_params(args.param),
        workers=args.workers,
        run_time_env=dialect.run_time_env(),
        say=say,
    )
    summary = rehearsal.run()
    say(summary.line())
    if summary.failed:
        print(f"laminar: error: {', '.join(summary.failed)} failed", file=sys.stderr)
        return 1
    say(f"inspect with: laminar show {args.flow} --execution {execution} --datastore {datastore}")
    return 0


def _target(argv: list[str]) -> str | None:
    for index, word in enumerate(argv):
        if word == "--target" and index + 1 < len(argv):
            return argv[index + 1]
        if word.startswith("--target="):
            return word.split("=", 1)[1]
    return None


def _say(line: str) -> None:
    print(f"laminar: {line}", file=sys.stderr, flush=True)
