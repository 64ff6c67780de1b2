"""The options of ``laminar run`` and ``python flow.py``, declared once.

A module of its own, needing only argparse, so that the ``laminar`` command can build its
parser without importing the local executor: a deployed task (``laminar task``) never runs it.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from typing import Any

from laminar.contract import ENV_LOGICAL_DATE, ENV_NO_CACHE
from laminar.errors import ConfigurationError


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """The options of ``laminar run`` (and of ``python flow.py``)."""
    parser.add_argument("--execution", metavar="ID", help="execution id (default: a new one)")
    parser.add_argument(
        "--datastore",
        metavar="URL",
        help="where artifacts live: a directory or any fsspec URL such as s3://bucket/x "
        "(default: $LAMINAR_DATASTORE, else .laminar)",
    )
    parser.add_argument(
        "--workers", type=positive, default=1, metavar="N", help="processes for ForEach tasks"
    )
    parser.add_argument(
        "--rerun",
        action="append",
        default=[],
        metavar="LAYER",
        help="with --execution: delete LAYER's results and those of every layer after it, "
        "then run (repeatable; the fix for a damaged artifact)",
    )
    parser.add_argument(
        "--logical-date",
        metavar="DATE",
        type=logical_date_option,
        help="the run's logical date (the value of LogicalDate() inputs), as a scheduled run "
        "for DATE gets it: 2026-11-25 (default: today)",
    )
    parser.add_argument(
        "--keep-going",
        action="store_true",
        help="after a failing task, run the other tasks of its fan-out and every layer that "
        "does not depend on it, then fail listing the failures (default: stop at the first, "
        "as Argo does; Airflow and GitHub Actions carry on)",
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="run every task of cached layers (register(cache=...)) instead of serving them "
        "from earlier executions; each run still records what it ran (docs/caching.md)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    parser.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an input of the flow (repeatable); NAME=@FILE reads the value from FILE "
        "(parsed as JSON when FILE ends in .json)",
    )


def parse_params(items: Sequence[str]) -> dict[str, Any]:
    """``-p NAME=VALUE`` options as inputs: VALUE is text (converted by the input's declared
    type when the run starts); ``NAME=@FILE`` reads FILE, as JSON when it ends in ``.json``."""
    given: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ConfigurationError(f"-p {item!r} must be NAME=VALUE, such as -p sample=100.")
        if name in given:
            raise ConfigurationError(f"-p {name}=... is given twice; give each input once.")
        if value.startswith("@"):
            path = value[1:]
            try:
                with open(path, encoding="utf-8") as handle:
                    text = handle.read()
            except OSError as error:
                raise ConfigurationError(
                    f"-p {name}=@{path}: cannot read {path}: {error.strerror or error}."
                ) from None
            except UnicodeDecodeError as error:
                byte = error.object[error.start]
                raise ConfigurationError(
                    f"-p {name}=@{path}: {path} is not UTF-8 text (byte 0x{byte:02x} at offset "
                    f"{error.start}); inputs are text or JSON: save the file as UTF-8, "
                    "or pass binary data base64-encoded."
                ) from None
            if path.endswith(".json"):
                try:
                    given[name] = json.loads(text)
                except ValueError as error:
                    raise ConfigurationError(f"-p {name}=@{path} is not JSON: {error}.") from None
                continue
            value = text
        given[name] = value
    return given


def whole(text: str) -> int:
    """An argparse type: a whole number >= 0 in ASCII digits only.

    ``int()`` also takes ``" 4\\n"``, ``"1_000"`` and other scripts' digits (``"٤"``): a
    value that passes here is one every orchestrator reads back the same way.
    """
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise argparse.ArgumentTypeError(f"must be a whole number such as 4, not {text!r}")
    return int(text)


def positive(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    value = whole(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def logical_date_option(text: str) -> str:
    """``--logical-date``: an ISO date or timestamp, handed to the run as an orchestrator
    hands it over."""
    from laminar.configurations.schedule import parse_moment

    if parse_moment(text) is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date such as 2026-11-25 (or a time such as 2026-11-25T03:00)"
        )
    return text


def use_no_cache(no_cache: bool) -> None:
    """Run every task (``--no-cache``) by setting ``$LAMINAR_NO_CACHE``: the same variable the
    shim reads in a deployed task (each target's per-run switch sets it), so forked workers
    see it too."""
    if no_cache:
        os.environ[ENV_NO_CACHE] = "1"


def use_logical_date(date: str | None) -> None:
    """Run as the orchestrator would for a run of ``date`` (``$LAMINAR_LOGICAL_DATE``)."""
    if date is not None:
        os.environ[ENV_LOGICAL_DATE] = date
