"""The shim commands' arguments read without argparse, for start-up time.

Every deployed task starts a ``laminar task`` or ``laminar plan`` process, and argparse
(importing it, building the parser of every command, formatting help it never prints) costs
such a process several milliseconds: a large share of a trivial task's start-up (issue 15).
The command lines that workflows generate are simple, so they are read here directly; any
other command line (``--help``, an abbreviation, a bad value, anything unusual) returns
``None`` and goes through argparse as before, which gives the same result or the same error.
``tests/test_shim_imports.py`` checks that both readings agree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import SimpleNamespace

from laminar.contract import PLAN, TASK, PlanFormat

_FLAG, _APPEND = "flag", "append"


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


#: command -> option -> (destination, converter or _FLAG, default)
_OPTIONS: dict[str, dict[str, tuple[str, Callable[[str], object] | str, object]]] = {
    TASK: {
        "--layer": ("layer", str, None),
        "--execution": ("execution", str, None),
        "--datastore": ("datastore", str, None),
        "--leg": ("leg", _whole, None),
        "--retry": ("retry", _FLAG, False),
        "--max-legs": ("max_legs", _positive, None),
        "--format": ("format", _plan_format, PlanFormat.JSON.value),
        "--then-plan": ("then_plan", _APPEND, []),
        "--plan-output": ("plan_output", _APPEND, []),
        "--skipped-status": ("skipped_status", _whole, 0),
        "--finished-output": ("finished_output", str, None),
    },
    PLAN: {
        "--layer": ("layer", str, None),
        "--execution": ("execution", str, None),
        "--datastore": ("datastore", str, None),
        "--max-legs": ("max_legs", _positive, None),
        "--format": ("format", _plan_format, PlanFormat.JSON.value),
        "--output": ("output", str, None),
    },
}


def parse_shim_arguments(arguments: Sequence[str]) -> SimpleNamespace | None:
    """``laminar plan|task FLOW --layer L ...`` as argparse would read it, or ``None`` when
    argparse must read it (help, errors and anything unusual)."""
    if not arguments or arguments[0] not in _OPTIONS:
        return None
    command = arguments[0]
    options = _OPTIONS[command]
    values: dict[str, object] = {dest: default for dest, _, default in options.values()}
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
        if name not in options:
            return None  # -h, --, an abbreviation, an unknown option: argparse decides
        dest, convert, _ = options[name]
        if convert == _APPEND:
            if not equals:
                if not rest or rest[0].startswith("-"):
                    return None
                text = rest.pop(0)
            values[dest] = [*values[dest], text]  # type: ignore[misc]
            given.add(name)
            continue
        if convert == _FLAG:
            if equals:
                return None
            values[dest] = True
            continue
        if not equals:
            if not rest or rest[0].startswith("-"):
                return None
            text = rest.pop(0)
        assert callable(convert)
        try:
            values[dest] = convert(text)
        except ValueError:
            return None
        given.add(name)
    if flow is None or "--layer" not in given:
        return None
    return SimpleNamespace(command=command, flow=flow, **values)
