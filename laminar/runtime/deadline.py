"""Timeouts where laminar runs the user's code itself: locally, and in every deployed task.

A layer's ``register(timeout=...)`` limits each attempt; a flow's ``class F(Flow,
timeout=...)`` limits the whole local run. The orchestrators enforce the same limits with
their own mechanisms (Argo ``activeDeadlineSeconds``, Airflow ``execution_timeout``, GitHub
``timeout-minutes``); here an interval timer interrupts the task's Python code, which is
how a hung call in a local run is stopped within moments of its limit.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Iterator
from types import FrameType


class TaskTimeout(BaseException):
    """A task ran past its limit. A ``BaseException``, so neither the user's ``except
    Exception`` nor ``Catch`` can swallow it: a timeout always fails the attempt."""


class Deadline:
    """When the run must end (``time.monotonic()``), and the setting that says so."""

    def __init__(self, seconds: float, setting: str) -> None:
        self.ends = time.monotonic() + seconds
        self.seconds = seconds
        self.setting = setting

    def left(self) -> float:
        return self.ends - time.monotonic()


def limit(layer: str, timeout: float | None, run: Deadline | None) -> tuple[float, str] | None:
    """The seconds an attempt of ``layer`` may run, and the message when it does not end in
    time: the layer's own timeout or what is left of the run's, whichever ends first."""
    found: list[tuple[float, str]] = []
    if timeout is not None:
        message = (
            f"{layer} ran longer than its timeout of {_seconds(timeout)} "
            f"(register(timeout={timeout:g})) and was stopped"
        )
        found.append((timeout, message))
    if run is not None:
        message = (
            f"the flow's timeout of {_seconds(run.seconds)} ({run.setting}) ran out while "
            f"{layer} ran; it was stopped"
        )
        found.append((run.left(), message))
    return min(found) if found else None


@contextlib.contextmanager
def stopped_after(found: tuple[float, str] | None) -> Iterator[None]:
    """Raise ``TaskTimeout`` in the code run inside once ``found``'s seconds have passed.

    An interval timer (``SIGALRM``) interrupts even a blocking call; it exists in the main
    thread of a Unix process only, which is where laminar runs tasks (a worker process's,
    the shim's). Elsewhere nothing is interrupted here and the orchestrator's own limit
    applies.
    """
    if found is None:
        yield
        return
    import signal  # here: most tasks have no time limit

    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return
    seconds, message = found
    if seconds <= 0:
        raise TaskTimeout(message)

    def expire(signum: int, frame: FrameType | None) -> None:
        raise TaskTimeout(message)

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _seconds(value: float) -> str:
    whole = math.ceil(value) if value >= 1 else value
    return f"{whole:g} s"
