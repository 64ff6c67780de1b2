"""The ``laminar`` command's argparse parser: every command and its arguments but
``compile``'s, which parses its own (``laminar.cli.compile``: each target adds options).

Built only when needed: the shim commands of deployed tasks read their arguments without
argparse (``shim_args.parse_shim_arguments``), so nothing here is imported at module level
that a deployed task would pay for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from laminar import __version__
from laminar.cli.shim_args import DATASTORE_HELP, add_shim_options
from laminar.contract import EXIT, PLAN, SYNC, SYNC_CHANGED, SYNC_SNAPSHOT, TASK

if TYPE_CHECKING:
    import argparse

    from laminar.cli.parser import Parser

#: How a shim command's help says it is not for people.
SHIM_HELP = "(runtime shim, used by generated workflows)"


def build_parser() -> argparse.ArgumentParser:
    # Imported here: the shim commands of deployed tasks read their arguments without them.
    import argparse

    from laminar.cli import examples
    from laminar.cli.parser import Parser

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

    add_user_commands(commands, command)
    add_shim_commands(command)
    add_exit(command)
    add_sync(commands, SHIM_HELP)
    return parser


def add_user_commands(
    commands: argparse._SubParsersAction[Parser],
    command: Callable[[str, str, str], argparse.ArgumentParser],
) -> None:
    """The commands people type: ``run``, ``compile``, ``graph``, ``show``, ``logs``,
    ``cache``."""
    import argparse

    from laminar.cli import examples
    from laminar.cli.cache import add_cache_arguments
    from laminar.cli.logs import add_logs_arguments
    from laminar.cli.parser import Parser
    from laminar.runtime.options import add_run_options

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
    add_datastore(show)

    logs = command("logs", "Show what a task printed and its error.", examples.LOGS)
    add_logs_arguments(logs)
    add_datastore(logs)

    cache = command("cache", "List, clear or explain the flow's cache entries.", "")
    add_cache_arguments(cache)
    add_datastore(cache)


def add_datastore(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--datastore", metavar="URL", help=DATASTORE_HELP)


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


def add_exit(command: Callable[[str, str, str], argparse.ArgumentParser]) -> None:
    """``laminar exit``: the flow's exit hooks, once per run."""
    exit_ = command(
        EXIT, f"Run the flow's exit hooks once for an execution that ended {SHIM_HELP}.", ""
    )
    exit_.add_argument("--execution", metavar="ID", help="default: $LAMINAR_EXECUTION")
    exit_.add_argument(
        "--fail-if-run-failed",
        action="store_true",
        help="exit with status 1 when the run failed (after running the hooks)",
    )
    add_datastore(exit_)


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
