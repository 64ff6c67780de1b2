"""Escaping for every language a generated file contains.

A value from user code (a layer name, an option, an environment value) must stay inert data
wherever it lands: a YAML scalar (``backends/document.py``), a Python literal, a shell word,
a comment, text that GitHub scans for ``${{``. Nothing writes a raw user string: it goes
through one of these.
"""

from __future__ import annotations

import builtins
import keyword
import shlex
from typing import Any


def python_literal(value: Any) -> str:
    """A Python literal for ``value`` (strings, numbers, bools, None, lists, dicts).

    ``repr`` escapes every character that is not printable, line breaks included, so the
    literal stays on one line and parses back to ``value``.
    """
    return repr(value)


def comment_text(value: Any) -> str:
    """``value`` for the rest of a ``#`` comment line, in YAML or Python: one line, always.

    Anything not printable (line breaks of every kind, control characters, DEL, C1, U+2028,
    bidirectional overrides) is written as a visible escape such as ``\\n`` or ``\\u2028``.
    """
    text = str(value)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def shell_word(value: Any) -> str:
    """One shell word, quoted so the shell passes it through unchanged."""
    return shlex.quote(str(value))


def shell_command(argv: list[str] | tuple[str, ...]) -> str:
    return " ".join(shell_word(a) for a in argv)


def github_text(value: Any) -> str:
    """Text for a GitHub workflow field that GitHub scans for ``${{ }}`` expressions.

    GitHub has no escape character for ``${{``; the literal is produced by an expression
    that returns it, ``${{ '${{' }}``.
    """
    return str(value).replace("${{", "${{ '${{' }}")


#: Names no generated Python variable may take: keywords, soft keywords and builtins
#: (a task variable ``dict`` would rebind the builtin the DAG's own code calls).
PYTHON_RESERVED = tuple(
    sorted({*keyword.kwlist, *keyword.softkwlist, *dir(builtins)}, key=str.lower)
)
