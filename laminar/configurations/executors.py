"""Executor configurations in the original laminar library's spelling.

laminar's local executor runs every layer on this machine through the same runtime shim the
compiled targets use. ``Thread()`` runs tasks in this process; ``Process(workers=N)`` runs a
ForEach layer's tasks in N processes. Containers and clusters are what the compile targets are
for: ``Docker()`` and ``AWS.Batch(...)`` are accepted, say so once, and run locally.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from laminar.configurations.schedulers import Scheduler


class Executor:
    """Base of the executor configurations."""

    #: Processes for ForEach tasks.
    workers: int = 1

    def notice(self) -> str | None:
        """A one-line notice when laminar runs this executor differently than named."""
        return None


@dataclass(frozen=True)
class Thread(Executor):
    """Every task in this process, one after the other (the easiest to debug and test)."""

    workers: int = 1

    def notice(self) -> str | None:
        if self.workers > 1:
            return (
                f"executors.Thread(workers={self.workers}) runs tasks one at a time in this "
                "process; use executors.Process(workers=N) for parallel ForEach tasks."
            )
        return None


@dataclass(frozen=True)
class Process(Executor):
    """ForEach tasks in ``workers`` processes (``laminar run --workers N``)."""

    workers: int = 1


@dataclass(frozen=True)
class Docker(Executor):
    """Accepted for compatibility: runs locally, without containers."""

    workers: int = 1

    def notice(self) -> str | None:
        return (
            "executors.Docker() runs the flow on this machine without containers; compile it "
            "with `laminar compile --target argo` (or airflow --operator kubernetes) to run "
            "each layer in its Container(image=...)."
        )


class AWS:
    """Amazon Web Services executors."""

    @dataclass(frozen=True)
    class Batch(Executor):
        """Accepted for compatibility: runs locally."""

        job_queue_arn: Any = None
        job_role_arn: Any = None
        workers: int = 1

        def notice(self) -> str | None:
            return (
                "executors.AWS.Batch() runs the flow on this machine; compile it with "
                "`laminar compile --target argo` or `--target airflow` to run it on a cluster."
            )


def announce(configuration: Executor | Scheduler | None) -> None:
    """Say once, on stderr, how laminar runs what ``configuration`` names (when it differs)."""
    notice = configuration.notice() if configuration is not None else None
    if notice:
        print(f"laminar: {notice}", file=sys.stderr)
