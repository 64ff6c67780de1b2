"""The shim commands' options, declared once: argparse is built from this table, and the
command lines that workflows generate are read from it directly, without argparse.

Every deployed task starts a ``laminar task`` or ``laminar plan`` process, and argparse
(importing it, building the parser of every command, formatting help it never prints) costs
such a process several milliseconds: a large share of a trivial task's start-up (issue 15).
The command lines that workflows generate are simple, so ``parse_shim_arguments`` reads them
here; any other command line (``--help``, an abbreviation, a bad value, anything unusual)
returns ``None`` and goes through argparse, built by ``add_shim_options`` from the same table,
which gives the same result or the same error. ``tests/cli/test_shim_args.py`` checks that
both readings agree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING, NamedTuple

from laminar.contract import PLAN, SKIPPED_STATUS, TASK, PlanFormat

if TYPE_CHECKING:
    import argparse

#: How an option's value is read.
TEXT, WHOLE, POSITIVE, FORMAT, FLAG, APPEND = (
    "text", "whole", "positive", "format", "flag", "append",
)  # fmt: skip


class Option(NamedTuple):
    """One option of ``laminar plan`` / ``laminar task``."""

    flag: str
    dest: str
    kind: str
    help: str
    metavar: str | None = None
    default: object = None
    required: bool = False


DATASTORE_HELP = (
    "where artifacts live: a directory or any fsspec URL such as s3://bucket/x "
    "(default: $LAMINAR_DATASTORE, else .laminar)"
)
_COMMON = (
    Option("--layer", "layer", TEXT, "the layer's name", required=True),
    Option("--execution", "execution", TEXT, "default: $LAMINAR_EXECUTION", metavar="ID"),
    Option("--datastore", "datastore", TEXT, DATASTORE_HELP, metavar="URL"),
    Option("--max-legs", "max_legs", POSITIVE, "batch tasks into N legs", metavar="N"),
    Option(
        "--format",
        "format",
        FORMAT,
        "count: legs as a number; list: JSON list of legs; github: legs= and matrix= lines "
        "for $GITHUB_OUTPUT; json: the whole plan",
        default=PlanFormat.JSON.value,
    ),
)
#: command -> its options, in the order ``--help`` lists them.
SHIM_OPTIONS: dict[str, tuple[Option, ...]] = {
    PLAN: (
        *_COMMON,
        Option(
            "--output", "output", TEXT, "write there (github: append) not stdout", metavar="FILE"
        ),
        Option(
            "--resources-output",
            "resources_output",
            TEXT,
            "also write each leg's resources per attempt, as the layer's submission and retry "
            "hooks decide them (JSON)",
            metavar="FILE",
        ),
        Option(
            "--gpu-resource",
            "gpu_resource",
            TEXT,
            "the Kubernetes resource name of GPUs there (default nvidia.com/gpu)",
            metavar="NAME",
            default="nvidia.com/gpu",
        ),
    ),
    TASK: (
        *_COMMON,
        Option("--leg", "leg", WHOLE, "default: $LAMINAR_LEG", metavar="K"),
        # The flag's name is part of generated workflows; what it means is that this process
        # owns the attempts.
        Option(
            "--retry", "owns_attempts", FLAG, "honour the layer's Retry in-process", default=False
        ),
        Option(
            "--then-plan",
            "then_plan",
            APPEND,
            "once the layer is committed, plan ForEach layer LAYER too (repeatable; each with "
            "a --plan-output, in order)",
            metavar="LAYER",
            default=[],
        ),
        Option(
            "--plan-output", "plan_output", APPEND, "see --then-plan", metavar="FILE", default=[]
        ),
        Option(
            "--plan-key",
            "plan_keys",
            APPEND,
            "LAYER=KEY: with --format github, name the lines of --then-plan layer LAYER "
            "legs-KEY, count-KEY and matrix-KEY (for a job that plans several)",
            metavar="LAYER=KEY",
            default=[],
        ),
        Option(
            "--plan-if-ended",
            "plan_if_ended",
            APPEND,
            "plan --then-plan layer LAYER only if what its plan reads has ended (was skipped "
            "by this job's decisions); otherwise write nothing: that layer's own job plans it",
            metavar="LAYER",
            default=[],
        ),
        Option(
            "--plan-resources",
            "plan_resources",
            APPEND,
            "LAYER=FILE: also write the resources per leg and attempt that the hooks of "
            "--then-plan layer LAYER decide (see laminar plan --resources-output)",
            metavar="LAYER=FILE",
            default=[],
        ),
        Option(
            "--gpu-resource",
            "gpu_resource",
            TEXT,
            "the Kubernetes resource name of GPUs in --plan-resources (default nvidia.com/gpu)",
            metavar="NAME",
            default="nvidia.com/gpu",
        ),
        Option(
            "--skipped-status",
            "skipped_status",
            WHOLE,
            f"exit with N when the layer was skipped (Airflow: {SKIPPED_STATUS}); default 0",
            metavar="N",
            default=0,
        ),
        Option(
            "--finished-output",
            "finished_output",
            TEXT,
            "write whether the layer finished (true/false; github: finished= line) there",
            metavar="FILE",
        ),
    ),
}


def add_shim_options(parser: argparse.ArgumentParser, command: str) -> None:
    """Declare ``command``'s options on its argparse parser (help, errors, odd spellings)."""
    from laminar.runtime.options import positive, whole

    types: dict[str, Callable[[str], int]] = {WHOLE: whole, POSITIVE: positive}
    for option in SHIM_OPTIONS[command]:
        if option.kind == FLAG:
            parser.add_argument(
                option.flag, dest=option.dest, action="store_true", help=option.help
            )
            continue
        extra: dict[str, object] = {}
        if option.kind == FORMAT:
            extra["choices"] = [f.value for f in PlanFormat]
        elif option.kind in types:
            extra["type"] = types[option.kind]
        elif option.kind == APPEND:
            extra["action"] = "append"
        if option.required:
            extra["required"] = True
        parser.add_argument(
            option.flag,
            dest=option.dest,
            metavar=option.metavar,
            default=option.default,
            help=option.help,
            **extra,  # type: ignore[arg-type]
        )


def _whole(text: str) -> int:
    # As laminar.runtime.options.whole: ASCII digits only (int() also takes " 4\n", "٤").
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise ValueError(text)
    return int(text)


def _positive(text: str) -> int:
    value = _whole(text)
    if value < 1:
        raise ValueError(text)
    return value


def _plan_format(text: str) -> str:
    return PlanFormat(text).value


_CONVERT: dict[str, Callable[[str], object]] = {
    TEXT: str, WHOLE: _whole, POSITIVE: _positive, FORMAT: _plan_format,
}  # fmt: skip


def parse_shim_arguments(arguments: Sequence[str]) -> SimpleNamespace | None:
    """``laminar plan|task FLOW --layer L ...`` as argparse would read it, or ``None`` when
    argparse must read it (help, errors and anything unusual)."""
    if not arguments or arguments[0] not in SHIM_OPTIONS:
        return None
    command = arguments[0]
    options = {option.flag: option for option in SHIM_OPTIONS[command]}
    values: dict[str, object] = {o.dest: o.default for o in options.values()}
    flow: str | None = None
    given: set[str] = set()
    rest = list(arguments[1:])
    while rest:
        word = rest.pop(0)
        if not word.startswith("-"):
            if flow is not None:
                return None
            flow = word
            continue
        name, equals, text = word.partition("=")
        option = options.get(name)
        if option is None:
            return None  # -h, --, an abbreviation, an unknown option: argparse decides
        if option.kind == FLAG:
            if equals:
                return None
            values[option.dest] = True
            continue
        if not equals:
            if not rest or rest[0].startswith("-"):
                return None
            text = rest.pop(0)
        if option.kind == APPEND:
            values[option.dest] = [*values[option.dest], text]  # type: ignore[misc]
        else:
            try:
                values[option.dest] = _CONVERT[option.kind](text)
            except ValueError:
                return None
        given.add(name)
    if flow is None or not all(o.flag in given for o in options.values() if o.required):
        return None
    return SimpleNamespace(command=command, flow=flow, **values)
