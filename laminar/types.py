"""Small typing helpers the original laminar library's users import."""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


def unwrap(value: T | None, message: str = "expected a value, got None") -> T:
    """``value``, which must not be ``None``: ``flow.execution(unwrap(execution))``."""
    if value is None:
        raise ValueError(message)
    return value
