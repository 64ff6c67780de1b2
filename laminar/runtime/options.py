"""The options of ``laminar run`` and ``python flow.py``, declared once.

A module of its own, needing only argparse, so that the ``laminar`` command can build its
parser without importing the local executor: a deployed task (``laminar task``) never runs it.
"""

from __future__ import annotations

import argparse


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
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")


def positive(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value
