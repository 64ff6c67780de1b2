"""Escaping for every language a generated file contains.

A value from user code (a layer name, an option, an environment value) must stay inert data
wherever it lands. Templates never interpolate raw strings: they use these filters.
"""

from __future__ import annotations

import json
import shlex
from typing import Any


def yaml_scalar(value: Any) -> str:
    """A YAML scalar that parses back to exactly ``value`` (JSON is valid YAML)."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, float)):
        return json.dumps(value)
    return json.dumps(str(value), ensure_ascii=False)


def python_literal(value: Any) -> str:
    """A Python literal for ``value`` (strings, numbers, bools, None, lists, dicts)."""
    return repr(value)


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
