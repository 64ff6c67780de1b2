"""Whether a task of a cached layer is served from an earlier execution, and recording the
tasks that ran so later executions can be (docs/caching.md).

The decision is made here, in the shim, the same way locally and in every deployed task:
the task's key (``laminar.runtime.cache``) is looked up in the flow's cache index
(``laminar.store.cache``); a usable entry commits the task with the original's values, and
anything else (no entry, a damaged or expired one, missing files) runs it.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Callable, Sequence
from typing import Any

from laminar.contract import ENV_NO_CACHE
from laminar.ir import FlowIR, LayerSpec
from laminar.runtime.cache import TaskKeys
from laminar.store.cache import CacheEntry, CacheIndex
from laminar.store.commits import Commits
from laminar.store.execution import MAIN, Execution, Manifest, PlanRecord
from laminar.store.served import original_commits, served


def cache_disabled() -> bool:
    """Whether ``$LAMINAR_NO_CACHE`` asks to run every task (``laminar run --no-cache``, the
    per-run switch of each target): anything but unset, empty, ``0`` or ``false``."""
    return os.environ.get(ENV_NO_CACHE, "").strip().lower() not in ("", "0", "false")


#: How many keys of a fan-out's next tasks are computed in one pass (``TaskKeys.keys``).
WINDOW = 1024


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
        #: Per layer, how many of its tasks this process served from the cache.
        self.served: dict[str, int] = {}
        #: Per layer, the tasks that run next, in order (``expect``).
        self._expected: dict[str, Sequence[int]] = {}
        #: Keys computed ahead of their tasks, and their entries: task index -> (key, entry),
        #: for the tasks of layer ``_ahead_layer``.
        self._ahead: dict[int | None, tuple[str, CacheEntry | None]] = {}
        self._ahead_layer = ""

    def expect(self, layer: str, indices: Sequence[int]) -> None:
        """Tasks ``indices`` of ``layer`` run next, in increasing order: their keys are
        computed a window at a time, in one pass, instead of one by one."""
        self._expected[layer] = indices

    def lookup(
        self,
        spec: LayerSpec,
        index: int | None,
        plan: PlanRecord | None,
        commit: Callable[[Manifest], None],
    ) -> tuple[str, str]:
        """(served from, key): served from an execution, the task is committed from the
        cache (``commit``); else ``key`` is what to record once it finished ("" when the layer
        is not cached or the task has no key). Switched off (``$LAMINAR_NO_CACHE``), nothing
        is served but the key is still computed: what runs is recorded for later runs."""
        cache = spec.settings.cache
        if self.disabled is None:  # read once: the switch is the run's
            self.disabled = cache_disabled()
        if cache is None:
            return "", ""
        ahead = self._ahead.pop(index, None) if self._ahead_layer == spec.name else None
        key, entry = ahead or self._find(spec, index, plan)
        if self.disabled or entry is None or entry.execution == self.execution.id:
            return "", key  # nothing to serve, or switched off: the task runs
        task = MAIN if index is None else str(index)
        objects = self.execution.objects
        if entry.execution not in self.originals:
            self.originals[entry.execution] = original_commits(objects, entry.execution)
        original = self.originals[entry.execution]
        manifest = served(objects, spec.name, task, key, entry, original)
        if manifest is None:
            return "", key
        commit(manifest)
        self.served[spec.name] = self.served.get(spec.name, 0) + 1
        return entry.execution, key

    def _find(
        self, spec: LayerSpec, index: int | None, plan: PlanRecord | None
    ) -> tuple[str, CacheEntry | None]:
        """Task ``index``'s key and its entry, with those of the next expected tasks where it
        starts a window (``lookup`` then finds theirs in ``_ahead``); ("", None) when a part
        of the key cannot be digested."""
        max_age = spec.settings.cache.max_age if spec.settings.cache is not None else None
        if index is not None and plan is not None and spec.name in self._expected:
            self._look_ahead(spec, index, plan, max_age)
            if (found := self._ahead.pop(index, None)) is not None:
                return found
        try:
            key = self.keys.key(spec, index, plan)[0]
        except KeyError:
            return "", None
        return key, self.index.read(spec.name, [key], max_age)[0]

    def _look_ahead(
        self, spec: LayerSpec, index: int, plan: PlanRecord, max_age: float | None
    ) -> None:
        """The keys and entries of the next ``WINDOW`` expected tasks from ``index``, in one
        pass (none when one of them has no key: each is then computed alone)."""
        expected = self._expected[spec.name]
        at = bisect.bisect_left(expected, index)
        window = list(expected[at : at + WINDOW])
        if not window or window[0] != index:
            return
        try:
            keys = self.keys.keys(spec, window, plan)
        except KeyError:
            return
        entries = self.index.read(spec.name, keys, max_age)
        self._ahead = dict(zip(window, zip(keys, entries, strict=True), strict=True))
        self._ahead_layer = spec.name

    def committed(self, manifests: Sequence[Manifest]) -> None:
        """Write the entries of tasks just committed, one file per layer: each manifest that
        names the key its task ran under (``Manifest.cache_key``) points that key at it."""
        entries: dict[str, dict[str, str]] = {}
        for manifest in manifests:
            if manifest.cache_key:
                entries.setdefault(manifest.layer, {})[manifest.cache_key] = manifest.task
        for layer, keyed in entries.items():
            self.index.write(layer, keyed)
            cache = self.keys.ir.spec(layer).settings.cache
            self.index.tidy(layer, cache.max_age if cache is not None else None)
