"""``from laminar.settings import current``: where the code that runs now runs.

The original laminar library's ``current``: inside a task (``__call__`` or a hook) it names the
execution, the flow and the layer, the task's index among its ForEach tasks, their number and
the attempt; outside a task every value is ``None``. Set by the runtime for the task it runs,
in this thread only.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Running:
    """The task running now."""

    execution: str
    flow: str
    layer: str
    index: int | None
    splits: int
    attempt: int


_RUNNING: contextvars.ContextVar[Running | None] = contextvars.ContextVar(
    "laminar_running", default=None
)


@contextlib.contextmanager
def running(task: Running) -> Iterator[None]:
    """Make ``task`` the current one while the block runs."""
    token = _RUNNING.set(task)
    try:
        yield
    finally:
        _RUNNING.reset(token)


#: True while a deployed task runs (``laminar task``, ``plan`` or ``exit``, as an orchestrator
#: starts them), so that what only a local run can do refuses there with the alternative.
_DEPLOYED: contextvars.ContextVar[bool] = contextvars.ContextVar("laminar_deployed", default=False)


@contextlib.contextmanager
def deployed() -> Iterator[None]:
    """Mark the block as a deployed task's (the shim's commands)."""
    token = _DEPLOYED.set(True)
    try:
        yield
    finally:
        _DEPLOYED.reset(token)


def in_deployed_task() -> bool:
    """Whether the code running now is a deployed task's (``laminar task``, ``plan``, ``exit``)."""
    return _DEPLOYED.get()


class _Execution:
    @property
    def id(self) -> str | None:
        """The execution's id (the orchestrator's run id when deployed)."""
        task = _RUNNING.get()
        return task.execution if task else None

    @property
    def retry(self) -> bool:
        """Whether this task is a retry (its attempt is the second or later)."""
        task = _RUNNING.get()
        return task is not None and task.attempt > 1


class _Flow:
    @property
    def name(self) -> str | None:
        task = _RUNNING.get()
        return task.flow if task else None


class _Layer:
    @property
    def name(self) -> str | None:
        task = _RUNNING.get()
        return task.layer if task else None

    @property
    def index(self) -> int | None:
        """The task's index in its ForEach fan-out; None for a layer without ForEach."""
        task = _RUNNING.get()
        return task.index if task else None

    @property
    def splits(self) -> int | None:
        task = _RUNNING.get()
        return task.splits if task else None

    @property
    def attempt(self) -> int | None:
        task = _RUNNING.get()
        return task.attempt if task else None


class Current:
    """``current.execution.id``, ``current.flow.name``, ``current.layer.name`` / ``.index`` /
    ``.splits`` / ``.attempt``."""

    execution = _Execution()
    flow = _Flow()
    layer = _Layer()


current = Current()
