"""User strings on the terminal and in checks: shown escaped, never as raw control codes.

Names and ids come from users and orchestrators: a layer class made with ``type(name, ...)``,
an Airflow run id, a datastore path. Printed raw, an ANSI escape sequence in one of them
recolours or rewrites the user's terminal, a carriage return hides the rest of a line and a
newline forges a line of laminar's own output. Everything laminar prints about such a string
goes through ``printable``; text that is laminar's own message goes through ``printable_lines``,
which keeps its line breaks.

Command-line arguments that are not valid UTF-8 reach Python as lone surrogates
(``surrogateescape``): they cannot be written to a datastore, a manifest or a generated file,
so ``invalid_utf8`` finds them for a clear error up front.
"""

from __future__ import annotations

import shlex

#: Characters that move the cursor, change the terminal's state or reorder the text shown:
#: C0 controls, DEL, C1 controls, the Unicode line and paragraph separators, and the
#: bidirectional overrides and isolates that make a string display as another.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _unsafe(char: str) -> bool:
    code = ord(char)
    return (
        code < 0x20
        or 0x7F <= code <= 0x9F
        or code in (0x2028, 0x2029)
        or char in _BIDI
        or 0xD800 <= code <= 0xDFFF
    )


def _escape(char: str) -> str:
    code = ord(char)
    if char in _SHORT:
        return _SHORT[char]
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` on one line with every control character escaped (``\\x1b``, ``\\n``).

    Printable text, non-ASCII letters included, is unchanged, so ordinary names read as
    written; a backslash stays a single backslash (this is for eyes, not for parsing).
    """
    if text.isprintable():
        return text
    return "".join(_escape(c) if _unsafe(c) else c for c in text)


def printable_lines(text: str) -> str:
    """Like ``printable`` but keeps line breaks and tabs: for laminar's multi-line messages."""
    if text.isprintable():
        return text
    return "".join(_escape(c) if _unsafe(c) and c not in "\n\t" else c for c in text)


def shell_word(text: str) -> str:
    """``text`` as one shell word to copy into a command: ``shlex.quote``, or bash's
    ``$'...'`` with escapes when it holds control characters (never raw on the terminal)."""
    if printable(text) == text:
        return shlex.quote(text)
    inner = text.replace("\\", "\\\\").replace("'", "\\'")
    return "$'" + printable(inner) + "'"


def invalid_utf8(text: str) -> bool:
    """Whether ``text`` holds lone surrogates: bytes that were not UTF-8, or broken text."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def describe_bytes(text: str) -> str:
    """``text`` quoted for an error message, undecodable bytes shown as ``\\xNN``."""
    return "'" + printable(text).replace("'", "\\'") + "'"


__all__ = ["describe_bytes", "invalid_utf8", "printable", "printable_lines", "shell_word"]
