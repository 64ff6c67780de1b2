"""Typed spec objects, serialised to deterministic YAML.

The Argo and GitHub dialects build dataclasses named after their target's own fields
(``Workflow``, ``Template``, ``DAGTask``; ``Job``, ``Step``) and this module writes them out.
Escaping is structural rather than remembered in templates:

* every string is a double-quoted YAML scalar in which anything a YAML parser would fold,
  drop or refuse (control characters, DEL, C1, U+0085, U+2028/9, BOM, ...) is an escape
  sequence, so each value parses back exactly;
* a string the target would evaluate goes through the dialect's ``text`` function (GitHub turns
  ``${{`` into an expression that yields it; Argo refuses ``{{`` that it cannot escape), while an
  ``Expression``, which laminar builds from ids it made legal, is written as it is;
* keys are plain only when no YAML 1.1 parser (Kubernetes uses one) reads them as anything but
  a string.

Fields are written in declaration order and ``None`` or empty fields are left out, so the same
objects always give the same bytes.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

from laminar.backends.escaping import comment_text
from laminar.errors import CompileError


class Expression(str):
    """Text the target evaluates (``{{workflow.name}}``, ``${{ matrix.leg }}``), built by
    laminar from legal ids only; the serialiser writes it without escaping it."""


@dataclasses.dataclass(frozen=True)
class Spec:
    """Base of a target's spec objects: a mapping of its fields, in declaration order.

    A field named ``if_`` or ``with_`` (Python keywords) is written without the underscore;
    ``key_style`` turns the remaining snake_case names into the target's spelling.
    """

    key_style: ClassVar[str] = "camel"

    def fields(self) -> Iterable[tuple[str, Any]]:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is None or (isinstance(value, (tuple, list, dict)) and not value):
                continue
            yield _key(field.name.rstrip("_"), self.key_style), value


def _key(name: str, style: str) -> str:
    if style == "kebab":
        return name.replace("_", "-")
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


#: Keys a YAML 1.1 parser reads as booleans or null when plain.
_YAML11_SPECIAL = frozenset(
    ["y", "yes", "n", "no", "true", "false", "on", "off", "null", "~", "<<", "="]
)  # fmt: skip
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]*")


def to_yaml(
    document: Spec | Mapping[str, Any],
    *,
    comments: Iterable[str] = (),
    text: Callable[[str], str] = lambda value: value,
    plain_keys: frozenset[str] = frozenset(),
) -> str:
    """``document`` as YAML, with ``comments`` as ``#`` lines on top.

    ``text`` escapes each plain string for the target (not ``Expression``s); ``plain_keys``
    are keys written plain although YAML 1.1 would read them otherwise (GitHub's ``on``).
    """
    writer = _Writer(text, plain_keys)
    for line in comments:
        writer.lines.append(f"# {comment_text(line)}".rstrip())
    writer.mapping(_items(document), 0)
    return "\n".join(writer.lines) + "\n"


def _items(value: Spec | Mapping[str, Any]) -> list[tuple[str, Any]]:
    return list(value.fields()) if isinstance(value, Spec) else list(value.items())


def _is_mapping(value: Any) -> bool:
    return isinstance(value, (Spec, Mapping))


class _Writer:
    def __init__(self, text: Callable[[str], str], plain_keys: frozenset[str]) -> None:
        self.text = text
        self.plain_keys = plain_keys
        self.lines: list[str] = []

    def mapping(self, items: list[tuple[str, Any]], indent: int, first: str = "") -> None:
        """Write ``items`` at ``indent``; ``first`` prefixes the first line (``- ``)."""
        pad = " " * indent
        for position, (key, value) in enumerate(items):
            lead = first if position == 0 and first else pad
            self.entry(f"{lead}{self.key(key)}:", value, indent)

    def entry(self, head: str, value: Any, indent: int) -> None:
        if _is_mapping(value) and _items(value):
            self.lines.append(head)
            self.mapping(_items(value), indent + 2)
        elif isinstance(value, (list, tuple)) and value:
            self.lines.append(head)
            self.sequence(value, indent + 2)
        elif value is None:
            self.lines.append(head)
        else:
            self.lines.append(f"{head} {self.scalar(value)}")

    def sequence(self, values: Iterable[Any], indent: int) -> None:
        pad = " " * indent
        for value in values:
            if _is_mapping(value) and _items(value):
                self.mapping(_items(value), indent + 2, first=f"{pad}- ")
            else:
                self.lines.append(f"{pad}- {self.scalar(value)}")

    def key(self, key: str) -> str:
        plain = _PLAIN_KEY.fullmatch(key) and key.lower() not in _YAML11_SPECIAL
        return key if plain or key in self.plain_keys else self.string(key)

    def scalar(self, value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float):
            return json.dumps(value, allow_nan=False)  # finite: inputs are checked JSON
        if _is_mapping(value):
            return "{}"
        if isinstance(value, (list, tuple)):
            return "[]"
        if isinstance(value, Expression):
            return self.string(str(value))
        if isinstance(value, str):
            return self.string(self.text(value))
        raise TypeError(f"cannot write {value!r} as YAML")  # pragma: no cover - a bug

    @staticmethod
    def string(value: str) -> str:
        return yaml_string(value)


def yaml_string(value: str) -> str:
    """A double-quoted YAML scalar that every YAML parser reads back as exactly ``value``."""
    for char in value:
        if 0xD800 <= ord(char) <= 0xDFFF:
            raise CompileError(
                f"{value!r} is not valid Unicode text (it holds a lone surrogate, as left by "
                "bytes that are not UTF-8); fix the name or option it came from."
            )
    quoted = json.dumps(value, ensure_ascii=False)
    if quoted.isprintable():  # the common case: nothing a parser could fold or drop
        return quoted
    return "".join(char if char.isprintable() else _escape(char) for char in quoted)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
