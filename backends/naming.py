"""Target-legal, unique, deterministic ids for layers.

Each target restricts names differently (see shared/notes/target-limits.md); a backend
only declares its ``NameRule`` and every backend gets the same guarantees: the id is legal,
stable across runs and machines, and two layers never share one, even when they would after
sanitising (``Process_Data`` and ``process-data``) or truncating (two 300-character names).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class NameRule:
    """How a target spells ids: allowed characters, case, length and first character."""

    #: Characters outside this class are replaced by ``separator``.
    allowed: str
    max_length: int
    separator: str = "-"
    lowercase: bool = False
    #: A regular expression the first character must match; otherwise ``prefix`` is prepended.
    first: str = "[A-Za-z]"
    prefix: str = "x"

    def sanitise(self, name: str) -> str:
        text = name
        if self.lowercase:
            # CamelCase -> camel-case, so ProcessData stays readable as process-data.
            text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", self.separator, text).lower()
        text = re.sub(f"[^{self.allowed}]+", self.separator, text)
        sep = re.escape(self.separator)
        text = re.sub(f"{sep}{{2,}}", self.separator, text).strip(self.separator)
        if not text or not re.match(self.first, text):
            text = f"{self.prefix}{self.separator}{text}" if text else self.prefix
        return text

    def is_legal(self, text: str) -> bool:
        return (
            0 < len(text) <= self.max_length
            and re.fullmatch(f"[{self.allowed}]+", text) is not None
            and re.match(self.first, text) is not None
        )


def short_hash(text: str, length: int = 6) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def assign_ids(
    names: Iterable[str], rule: NameRule, *, reserved: Iterable[str] = (), suffix: str = ""
) -> dict[str, str]:
    """Map each name to a legal id unique among ``names`` and ``reserved``.

    ``suffix`` (for example ``"-plan"``) is appended after sanitising and counts towards the
    length limit. Ids that had to be shortened or that collide get a hash of the original
    name, so the result does not depend on the order of ``names``.
    """
    names = list(names)
    taken = {r.lower() for r in reserved}
    base = {n: rule.sanitise(n) for n in names}
    counts: dict[str, int] = {}
    for n in names:
        counts[base[n].lower()] = counts.get(base[n].lower(), 0) + 1
    result: dict[str, str] = {}
    for n in names:
        candidate = base[n] + suffix
        clash = counts[base[n].lower()] > 1 or candidate.lower() in taken
        if clash or len(candidate) > rule.max_length:
            tag = rule.separator + short_hash(n)
            room = rule.max_length - len(tag) - len(suffix)
            candidate = base[n][:room].rstrip(rule.separator) + tag + suffix
        result[n] = candidate
    if len({v.lower() for v in result.values()} | taken) != len(result) + len(taken):
        raise AssertionError(f"id collision after hashing: {result}")  # pragma: no cover
    return result
