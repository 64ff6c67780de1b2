"""Whether a task of a cached layer is served from an earlier execution, and recording the
tasks that ran so later executions can be (docs/caching.md).

The decision is made here, in the shim, the same way locally and in every deployed task:
the task's key (``laminar.runtime.cache``) is looked up in the flow's cache index
(``laminar.store.cache``); a usable entry commits the task with the original's values, and
anything else (no entry, a damaged or expired one, missing files) runs it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from laminar.contract import ENV_NO_CACHE
from laminar.ir import FlowIR, LayerSpec
from laminar.runtime.cache import TaskKeys
from laminar.store.cache import CacheIndex, original_commits, served
from laminar.store.commits import Commits
from laminar.store.execution import MAIN, Execution, Manifest, PlanRecord


def cache_disabled() -> bool:
    """Whether ``$LAMINAR_NO_CACHE`` asks to run every task (``laminar run --no-cache``, the
    per-run switch of each target): anything but unset, empty, ``0`` or ``false``."""
    return os.environ.get(ENV_NO_CACHE, "").strip().lower() not in ("", "0", "false")


class TaskCache:
    """The cache as one execution's tasks use it."""

    def __init__(
        self, ir: FlowIR, execution: Execution, inputs: Callable[[], dict[str, Any]]
    ) -> None:
        self.keys = TaskKeys(ir, execution, inputs)
        self.index = CacheIndex(execution.objects)
        self.execution = execution
        #: The commits of the executions tasks were served from, by id.
        self.originals: dict[str, Commits] = {}
        #: Whether the run ignores the cache (``$LAMINAR_NO_CACHE``), once a task asked.
        self.disabled: bool | None = None

    def lookup(
        self,
        spec: LayerSpec,
        index: int | None,
        plan: PlanRecord | None,
        commit: Callable[[Manifest], None],
    ) -> tuple[str, str]:
        """(served from, key): served from an execution, the task is committed from the
        cache (``commit``); else ``key`` is what to record once it finished ("" when the layer
        is not cached, the cache is switched off, or the task has no key)."""
        cache = spec.settings.cache
        if self.disabled is None:  # read once: the switch is the run's
            self.disabled = cache_disabled()
        if cache is None or self.disabled:
            return "", ""
        try:
            key, _ = self.keys.key(spec, index, plan)
        except KeyError:
            return "", ""
        task = MAIN if index is None else str(index)
        entry = self.index.read(spec.name, key, cache.max_age)
        if entry is None or entry.execution == self.execution.id:
            return "", key
        objects = self.execution.objects
        if entry.execution not in self.originals:
            self.originals[entry.execution] = original_commits(objects, entry.execution)
        original = self.originals[entry.execution]
        manifest = served(objects, spec.name, task, entry, original)
        if manifest is None:
            return "", key
        commit(manifest)
        return entry.execution, key

    def record(self, spec: LayerSpec, task: str, key: str) -> None:
        """Point ``key`` at this execution's ``task``, once committed: written by ``flush``."""
        self.index.record(spec.name, key, task)

    def flush(self) -> None:
        """Write the entries recorded since the last flush, one file per layer: call it once
        their tasks' manifests are committed (after each commit group)."""
        self.index.flush()
