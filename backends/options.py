"""Compile options as typed dataclasses, declared one way for every target.

Each target declares its options as a frozen dataclass whose fields are made with ``option()``:
the field is the option's value, its metadata the command-line flag and help. The same class
builds the ``laminar compile`` argument group, is filled from the parsed arguments, and
validates itself in ``__post_init__`` (raising ``CompileError``), so a bad value fails once, at
compile time, whichever way the options were given (command line or Python).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from laminar.configurations.schedule import cron_of
from laminar.errors import CompileError, ConfigurationError

T = TypeVar("T")


def option(
    flag: str,
    help: str,
    *,
    default: Any = None,
    metavar: str | None = None,
    choices: Iterable[str] | None = None,
    repeat: bool = False,
    kind: Callable[[str], Any] = str,
    switch: bool = False,
) -> Any:
    """A dataclass field that is also the command-line option ``flag``.

    ``repeat`` collects every occurrence into a tuple; ``switch`` is a flag without a value.
    """
    metadata = {
        "flag": flag,
        "help": help,
        "metavar": metavar,
        "choices": tuple(choices) if choices is not None else None,
        "repeat": repeat,
        "kind": kind,
        "switch": switch,
    }
    if repeat:
        return dataclasses.field(default=tuple(default or ()), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def add_arguments(group: argparse._ArgumentGroup, options: type[Any], prefix: str) -> None:
    """Declare every ``option()`` field of ``options`` in ``group`` (dest: prefix + field)."""
    for field in dataclasses.fields(options):
        meta = field.metadata
        if "flag" not in meta:
            continue
        settings: dict[str, Any] = {"dest": prefix + field.name, "help": meta["help"]}
        if meta["switch"]:
            settings["action"] = "store_true"
            settings["default"] = None
        else:
            settings["type"] = meta["kind"]
            settings["metavar"] = meta["metavar"]
            if meta["choices"] is not None:
                settings["choices"] = meta["choices"]
            if meta["repeat"]:
                settings["action"] = "append"
        group.add_argument(meta["flag"], **settings)


def from_arguments(options: type[T], arguments: argparse.Namespace, prefix: str) -> T:
    """Build ``options`` from what ``add_arguments`` parsed; unset options keep defaults."""
    given: dict[str, Any] = {}
    for field in dataclasses.fields(options):  # type: ignore[arg-type]
        value = getattr(arguments, prefix + field.name, None)
        if value is not None:
            given[field.name] = tuple(value) if field.metadata.get("repeat") else value
    return options(**given)


def flag_of(options: Any, name: str) -> str:
    """The command-line spelling of field ``name``, for error messages."""
    for field in dataclasses.fields(options):
        if field.name == name:
            return str(field.metadata.get("flag", name))
    return name  # pragma: no cover - every validated field is an option


# -- validation helpers shared by every target's options -----------------------------------


def require_text(value: str | None, flag: str, *, one_line: bool = True) -> str | None:
    """Non-empty text (or ``None``); ``one_line``: printable, without line breaks.

    Targets whose output language round-trips any string (Python literals) take any text;
    the rest refuse what cannot be a single value.
    """
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise CompileError(f"{flag} {value!r} must not be empty.")
    if one_line and not value.isprintable():
        raise CompileError(f"{flag} {value!r} must be one line of printable text.")
    return value


def require_pattern(
    value: str | None, flag: str, pattern: str, what: str, max_length: int | None = None
) -> str | None:
    """``value`` matching ``pattern`` in full (never just a prefix: ``$`` accepts ``\\n``)."""
    if value is None:
        return None
    too_long = max_length is not None and len(value) > max_length
    if not isinstance(value, str) or too_long or re.fullmatch(pattern, value) is None:
        limit = f", at most {max_length} characters" if max_length is not None else ""
        raise CompileError(f"{flag} {value!r} is not {what}{limit}.")
    return value


def require_positive(value: int | None, flag: str, maximum: int | None = None) -> int | None:
    """A whole number of at least 1 (and at most ``maximum``), or ``None``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise CompileError(f"{flag} {value!r} must be a whole number of at least 1.")
    if maximum is not None and value > maximum:
        raise CompileError(f"{flag} {value} is over the target's limit of {maximum}.")
    return value


def require_choice(value: str | None, flag: str, choices: Iterable[str]) -> str | None:
    allowed = tuple(choices)
    if value is not None and value not in allowed:
        raise CompileError(f"{flag} {value!r} must be one of: {', '.join(allowed)}.")
    return value


def require_finite(value: float, what: str) -> float:
    if not math.isfinite(value):
        raise CompileError(f"{what} must be a finite number, not {value!r}.")
    return value


def valid_cron(cron: object, option: str) -> str:
    """``cron`` checked field by field as a schedule is (``Schedule``), or ``CompileError``."""
    try:
        return cron_of(str(cron))
    except ConfigurationError as error:
        raise CompileError(f"{option}: {error}") from None


@dataclasses.dataclass(frozen=True)
class CompileOptions:
    """What every target is compiled with; ``target_options`` holds the target's own."""

    #: How generated commands name the flow: ``path/to/flow.py:FlowName``, relative.
    flow_ref: str
    datastore: str | None = None
    image: str | None = None
    #: The command that regenerates the output; shown in the generated file's header.
    command: str = ""
    #: The laminar executable inside tasks.
    laminar: tuple[str, ...] = ("laminar",)
    #: The target's options dataclass (``ArgoOptions``...); ``None`` means its defaults.
    target_options: Any = None
