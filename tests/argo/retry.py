"""Argo's `retryStrategy`: which failures are retried, how often, and the backoff delays.

Semantics follow Argo's documentation: `limit` is the number of retries (attempts =
limit + 1); `retryPolicy` defaults to OnFailure (non-zero exit); the delay before retry n
(1-based) is `duration * factor**(n-1)`, capped by `cap`; retrying stops once the delays
waited plus the next one would exceed `maxDuration` (process run time is not counted).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from . import templating

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")


def parse_duration(text: str | int) -> float:
    """Seconds in a Go duration (`1m30s`, `500ms`) or a bare number of seconds."""
    text = str(text).strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a duration: {text!r}")
    return sum(float(n) * _UNITS[u] for n, u in parts)


class RetryPolicy:
    """Decides, after each failed attempt, whether to retry and after which delay."""

    def __init__(self, strategy: Mapping[str, Any] | None, scope: Mapping[str, Any]) -> None:
        strategy = strategy or {}
        unsupported = set(strategy) - {"limit", "retryPolicy", "backoff", "expression", "affinity"}
        if unsupported:
            raise NotImplementedError(f"retryStrategy keys {sorted(unsupported)}")
        limit = strategy.get("limit")
        self.limit = int(templating.substitute(str(limit), scope)) if limit is not None else 0
        if not strategy:
            self.limit = 0
        self.policy = strategy.get("retryPolicy", "OnFailure")
        if self.policy not in ("Always", "OnFailure", "OnError", "OnTransient"):
            raise ValueError(f"unknown retryPolicy {self.policy!r}")
        self.expression = strategy.get("expression")
        backoff = strategy.get("backoff", {})
        self.duration = parse_duration(backoff["duration"]) if "duration" in backoff else 0.0
        self.factor = float(backoff.get("factor", 1) or 1)
        self.cap = parse_duration(backoff["cap"]) if "cap" in backoff else None
        self.max_duration = (
            parse_duration(backoff["maxDuration"]) if "maxDuration" in backoff else None
        )
        self.waited = 0.0

    def next_delay(
        self, attempts: int, phase: str, exit_code: int | None, message: str
    ) -> float | None:
        """Delay before the next attempt, or None when the node should fail now.

        `attempts` is the number of attempts made so far (all failed).
        """
        if attempts > self.limit:
            return None
        wanted = {"Always": ("Failed", "Error"), "OnFailure": ("Failed",)}.get(
            self.policy, ("Error",)
        )
        if phase not in wanted:
            return None
        if self.expression is not None:
            last = {
                "lastRetry.exitCode": str(exit_code if exit_code is not None else -1),
                "lastRetry.status": phase,
                "lastRetry.duration": "0",
                "lastRetry.message": message,
            }
            if not templating.evaluate(self.expression, last):
                return None
        delay = self.duration * self.factor ** (attempts - 1)
        if self.cap is not None:
            delay = min(delay, self.cap)
        if self.max_duration is not None and self.waited + delay > self.max_duration:
            return None
        self.waited += delay
        return delay
