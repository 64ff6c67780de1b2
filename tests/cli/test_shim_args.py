"""The shim reads its generated command lines without argparse, exactly as argparse would."""

from __future__ import annotations

import argparse

import pytest

from laminar.cli.arguments import build_parser
from laminar.cli.shim_args import SHIM_OPTIONS, parse_shim_arguments

READ_DIRECTLY = [
    ["task", "flow.py", "--layer=Shard"],
    ["task", "flow.py:GridFlow", "--layer", "Shard", "--execution", "run-1"],
    ["task", "flow.py", "--layer=--help"],  # a layer named like an option, as generated
    ["task", "flow.py", "--layer=", "--leg=0"],
    ["task", "--layer", "P", "flow.py", "--leg", "12", "--retry", "--datastore", "s3://b/p"],
    ["task", "flow.py", "--layer=A", "--layer=B", "--execution=x=y"],  # the last one wins
    ["plan", "flow.py", "--layer=P"],
    ["plan", "flow.py", "--layer=P", "--format", "count", "--max-legs", "4"],
    ["plan", "flow.py", "--layer=P", "--format=github", "--output", "out.txt"],
    ["plan", "flow.py", "--layer", "P", "--execution", "manual__2026-01-01T00:00:00+00:00"],
    # A task that plans the ForEach layers after it (Argo's fused planning).
    ["task", "f.py", "--layer=S", "--format", "count", "--then-plan=P", "--plan-output=/t/p"],
    [
        "task",
        "f.py",
        "--layer=S",
        "--then-plan=P",
        "--plan-output=a",
        "--then-plan=Q",
        "--plan-output",
        "b",
        "--max-legs",
        "4",
    ],
]

#: Help, errors and unusual spellings: argparse reads these (and prints their errors).
LEFT_TO_ARGPARSE = [
    [],
    ["run", "flow.py"],
    ["task", "flow.py"],  # --layer is required
    ["task", "--layer=A"],  # FLOW is required
    ["task", "flow.py", "--layer=A", "--help"],
    ["task", "flow.py", "--layer=A", "-h"],
    ["task", "flow.py", "--lay=A"],  # an abbreviation
    ["task", "flow.py", "--layer=A", "--leg", "x"],
    ["task", "flow.py", "--layer=A", "--leg", "-1"],
    ["task", "flow.py", "--layer=A", "--retry=yes"],
    ["task", "flow.py", "other.py", "--layer=A"],
    ["task", "flow.py", "--layer=A", "--", "x"],
    ["task", "flow.py", "--layer"],
    ["plan", "flow.py", "--layer=P", "--max-legs", "0"],
    ["plan", "flow.py", "--layer=P", "--format", "yaml"],
    ["plan", "flow.py", "--layer=P", "--leg", "1"],  # a task option
]


@pytest.mark.parametrize("argv", READ_DIRECTLY, ids=" ".join)
def test_generated_command_lines_read_as_argparse_reads_them(argv: list[str]) -> None:
    fast = parse_shim_arguments(argv)
    assert fast is not None
    assert vars(fast) == vars(build_parser().parse_args(argv))


@pytest.mark.parametrize("argv", LEFT_TO_ARGPARSE, ids=" ".join)
def test_anything_else_is_left_to_argparse(argv: list[str]) -> None:
    assert parse_shim_arguments(argv) is None


def test_argparse_parses_what_is_left_to_it() -> None:
    """Some of those are valid after all; argparse reads them the usual way (and refuses a
    leg that is not a whole number in ASCII digits, as the fast path does)."""
    args = build_parser().parse_args(["task", "flow.py", "--lay=A", "--leg", "3"])
    assert isinstance(args, argparse.Namespace)
    assert (args.layer, args.leg) == ("A", 3)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["task", "flow.py", "--layer=A", "--leg", "-1"])


@pytest.mark.parametrize("command", sorted(SHIM_OPTIONS))
def test_argparse_declares_exactly_the_tables_options(command: str) -> None:
    """One declaration: the parser's options are the table's, with its destinations."""
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    sub = commands.choices[command]
    declared = {
        flag: action.dest
        for action in sub._actions
        for flag in action.option_strings
        if flag not in ("-h", "--help")
    }
    assert declared == {o.flag: o.dest for o in SHIM_OPTIONS[command]}


def test_the_retry_flag_means_this_process_owns_the_attempts() -> None:
    args = parse_shim_arguments(["task", "flow.py", "--layer=A", "--retry"])
    assert args is not None and args.owns_attempts is True
