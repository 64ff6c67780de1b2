"""Commits: task manifests, commit groups and plans, written once and read back checked.

A task commits alone with ``tasks/<task>.manifest`` or, when a leg runs many small tasks, with
its neighbours in one ``tasks/<first>-<last>.group`` (see ``TaskGroup``). Both are sealed
(``integrity.Seal``) and written exclusively: the first writer wins, and a commit is never
replaced by another writer's. Readers look for a task's own manifest first, then for the group
that holds it, found from a listing of ``tasks/`` that is cached and refreshed on a miss.
"""

from __future__ import annotations

import bisect
import json
import pickle
import re
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from laminar.store.files import AlreadyCommitted
from laminar.store.integrity import CorruptObjectError
from laminar.store.objects import Objects
from laminar.store.records import FINISHED, MAIN, Manifest, PlanRecord

__all__ = ["MAIN", "Commits", "Manifest", "PlanRecord", "TaskGroup"]

#: A TaskGroup commits at most this many tasks, or values, or this much work, at once.
GROUP_TASKS = 1000
GROUP_BYTES = 4 * 1024 * 1024
GROUP_SECONDS = 0.5
_GROUP = re.compile(r"(\d+)-(\d+)\.group")


class Commits:
    """Reads and writes the commits of one execution, with the caches a large fan-out needs."""

    def __init__(self, objects: Objects) -> None:
        self.objects = objects
        self.layout = objects.layout
        self.store = objects.store
        self.seal = objects.seal
        self._manifests: dict[tuple[str, str], Manifest] = {}
        self._listing: dict[str, list[tuple[int, int, str]]] = {}
        self._group_cache: dict[tuple[str, str], dict[str, Manifest]] = {}

    def forget(self, layer: str) -> None:
        """Drop what is cached about ``layer`` (after it was invalidated for a re-run)."""
        self._manifests = {k: v for k, v in self._manifests.items() if k[0] != layer}
        self._listing.pop(layer, None)
        self._group_cache = {k: v for k, v in self._group_cache.items() if k[0] != layer}

    # -- plans -----------------------------------------------------------------------------
    def read_plan(self, layer: str) -> PlanRecord | None:
        path = self.layout.plan(layer)
        data = self.store.read_or_none(path)
        if data is None:
            return None
        what = f"The plan of ForEach layer {layer} ({path})"
        fix = self.objects.rerun_fix(layer)
        try:
            raw = json.loads(data)
            crc, mac = raw.pop("seal")
            plan = PlanRecord.from_dict(raw)
            tag = (int(crc), bytes.fromhex(mac))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise CorruptObjectError(
                f"{what} is damaged ({len(data)} bytes; {type(error).__name__}). {fix}"
            ) from None
        self.seal.check(plan.to_json(), tag, what, fix, self._plan_place(layer))
        return plan

    def _plan_place(self, layer: str) -> tuple[str, ...]:
        return self.objects.place(layer, "", "plan.json")

    def write_plan(self, layer: str, plan: PlanRecord) -> PlanRecord:
        """Commit ``plan`` unless a plan is committed already; returns the plan in force."""
        body = plan.to_json()
        crc, mac = self.seal.tag(body, self._plan_place(layer))
        sealed = {**json.loads(body), "seal": [crc, mac.hex()]}
        try:
            self.store.write_atomic(
                self.layout.plan(layer), json.dumps(sealed).encode(), exclusive=True
            )
        except AlreadyCommitted:
            existing = self.read_plan(layer)
            assert existing is not None
            return existing
        return plan

    # -- reading manifests -----------------------------------------------------------------
    def committed_tasks(self, layer: str) -> set[str]:
        """The tasks of ``layer`` committed now, from one directory listing (not a stat each)."""
        names = self.store.list_files(self.layout.tasks_dir(layer))
        self._listing[layer] = _groups(names)
        done = {n[: -len(".manifest")] for n in names if n.endswith(".manifest")}
        for first, last, _ in self._listing[layer]:
            done.update(str(i) for i in range(first, last + 1))
        return {t for t in done if not t.startswith(".")}

    def read_manifest(self, layer: str, task: str) -> Manifest | None:
        key = (layer, task)
        if key not in self._manifests:
            found = self.read_manifests(layer, [task])[0]
            if found is None:
                return None
            self._manifests[key] = found
        return self._manifests[key]

    def read_manifests(self, layer: str, tasks: Sequence[str]) -> list[Manifest | None]:
        found = {t: m for t in tasks if (m := self._manifests.get((layer, t))) is not None}
        if layer in self._listing:  # groups known from an earlier listing: no listing now
            self._from_groups(layer, [t for t in tasks if t not in found], found, refresh=False)
        rest = [t for t in tasks if t not in found]
        if rest:
            paths = [self.layout.manifest(layer, t) for t in rest]
            datas = self.store.read_many(paths)
            for task, path, data in zip(rest, paths, datas, strict=True):
                if data is not None:
                    raw = self._unseal(data, layer, task, "manifest", path)
                    found[task] = _manifest(raw)
            rest = [t for t in rest if t not in found]
        if rest:
            self._from_groups(layer, rest, found, refresh=True)
        return [found.get(t) for t in tasks]

    def _unseal(self, data: bytes, layer: str, task: str, kind: str, path: str) -> Any:
        """A commit file's payload, checked and bound to its place (``kind``: manifest or
        group; ``task``: the task, or ``first-last`` for a group)."""
        which = f"task {task}" if kind == "manifest" else f"tasks {task}"
        what = f"The commit of layer {layer} {which} ({path})"
        place = self.objects.place(layer, task, kind)
        return pickle.loads(self.seal.unseal(data, what, self.objects.rerun_fix(layer), place))

    def _from_groups(
        self, layer: str, tasks: list[str], found: dict[str, Manifest], *, refresh: bool
    ) -> None:
        numbers = [(t, int(t)) for t in tasks if t.isdigit()]
        if not numbers:
            return
        if refresh or layer not in self._listing:
            self._listing[layer] = _groups(self.store.list_files(self.layout.tasks_dir(layer)))
        groups = self._listing[layer]
        groups.sort()
        firsts = [first for first, _, _ in groups]
        wanted: dict[str, list[str]] = {}
        for task, number in numbers:
            k = bisect.bisect_right(firsts, number) - 1
            # The last group starting at or before the task; when groups overlap (two writers
            # of one execution racing, rare) an earlier one may hold it: look a few back.
            for first, last, name in groups[max(k - 7, 0) : k + 1][::-1]:
                if first <= number <= last:
                    wanted.setdefault(name, []).append(task)
                    break
        loaded = {n: g for n in wanted if (g := self._group_cache.get((layer, n))) is not None}
        todo = [n for n in wanted if n not in loaded]
        paths = [self.layout.group(layer, n) for n in todo]
        datas = self.store.read_many(paths)
        for name, path, data in zip(todo, paths, datas, strict=True):
            if data is not None:
                raws = self._unseal(data, layer, name[: -len(".group")], "group", path)
                loaded[name] = {raw["task"]: _manifest(raw) for raw in raws}
                self._group_cache[(layer, name)] = loaded[name]
                while len(self._group_cache) > 2:  # bounded memory while iterating a join
                    del self._group_cache[next(iter(self._group_cache))]
        for name, group_tasks in wanted.items():
            group = loaded.get(name, {})
            found.update((t, group[t]) for t in group_tasks if t in group)

    # -- committing ------------------------------------------------------------------------
    def commit(self, manifest: Manifest) -> bool:
        """Write the manifest last, atomically and exclusively: from now on the task's outputs
        exist. Returns False when another writer committed the task first (its commit stands)."""
        place = self.objects.place(manifest.layer, manifest.task, "manifest")
        data = self.seal.seal(pickle.dumps(_raw(manifest), pickle.HIGHEST_PROTOCOL), place)
        path = self.layout.manifest(manifest.layer, manifest.task)
        try:
            self.store.write_atomic(path, data, exclusive=True)
        except AlreadyCommitted:
            self._manifests.pop((manifest.layer, manifest.task), None)
            return False
        self._manifests[(manifest.layer, manifest.task)] = manifest
        return True

    def commit_group(self, manifests: Sequence[Manifest]) -> None:
        """Commit consecutive tasks of one layer with one atomic write instead of one each.

        Tasks another writer committed meanwhile are left out (first writer wins), which may
        split the group in runs of consecutive tasks.
        """
        if len(manifests) == 1:
            self.commit(manifests[0])
            return
        layer, first, last = manifests[0].layer, int(manifests[0].task), int(manifests[-1].task)
        if [(m.layer, m.task) for m in manifests] != [
            (layer, str(i)) for i in range(first, last + 1)
        ]:
            raise ValueError("a commit group holds consecutive tasks of one layer")
        committed = self.committed_tasks(layer)
        runs: list[list[Manifest]] = []
        for manifest in manifests:
            if manifest.task in committed:
                runs.append([])
            elif runs and runs[-1] and int(runs[-1][-1].task) + 1 == int(manifest.task):
                runs[-1].append(manifest)
            else:
                runs.append([manifest])
        for run in filter(None, runs):
            if len(run) == 1:
                self.commit(run[0])
                continue
            tasks = f"{run[0].task}-{run[-1].task}"
            name = f"{tasks}.group"
            payload = pickle.dumps([_raw(m) for m in run], protocol=pickle.HIGHEST_PROTOCOL)
            place = self.objects.place(layer, tasks, "group")
            try:
                self.store.write_atomic(
                    self.layout.group(layer, name), self.seal.seal(payload, place), exclusive=True
                )
            except AlreadyCommitted:
                continue
            self._listing.setdefault(layer, []).append((int(run[0].task), int(run[-1].task), name))


def _manifest(raw: dict[str, Any]) -> Manifest:
    return Manifest(
        layer=raw["layer"],
        task=raw["task"],
        attributes=raw["attributes"],
        status=raw.get("status", FINISHED),
        reason=raw.get("reason", ""),
        cached_from=raw.get("cached_from", ""),
        cache_key=raw.get("cache_key", ""),
    )


def _raw(manifest: Manifest) -> dict[str, Any]:
    raw = {"layer": manifest.layer, "task": manifest.task, "attributes": manifest.attributes}
    if not manifest.finished:  # a finished task's commit is as it always was
        raw.update(status=manifest.status, reason=manifest.reason)
    if manifest.cached_from:
        raw["cached_from"] = manifest.cached_from
    if manifest.cache_key:
        raw["cache_key"] = manifest.cache_key
    return raw


def _groups(names: Iterable[str]) -> list[tuple[int, int, str]]:
    """The commit groups among the file names of a ``tasks/`` directory."""
    found = [(int(m[1]), int(m[2]), n) for n in names if (m := _GROUP.fullmatch(n))]
    return sorted(found)


class TaskGroup:
    """Collects the manifests of consecutive tasks and commits them together.

    A fan-out of ten thousand trivial tasks would otherwise spend most of its time creating
    ten thousand manifest files (about a millisecond each on a busy disk). A group is written
    when it holds GROUP_TASKS tasks or GROUP_BYTES of values, when GROUP_SECONDS have passed
    since its first task, before a task that does not follow the previous one, and on
    ``flush()`` (the end of a leg, or a failing task). Tasks whose group was never written
    were not committed: a resumed run runs them again, as it would any crashed task.
    """

    def __init__(self, commit_group: Callable[[Sequence[Manifest]], None]) -> None:
        #: Writes the group (``Execution.commit_group``: the lease is checked first).
        self.commit_group = commit_group
        self.pending: list[Manifest] = []
        self.size = 0
        self.started = 0.0

    def add(self, manifest: Manifest) -> None:
        last = self.pending[-1] if self.pending else None
        if last is not None and (
            last.layer != manifest.layer or int(manifest.task) != int(last.task) + 1
        ):
            self.flush()
        if not self.pending:
            self.started = time.monotonic()
        self.pending.append(manifest)
        self.size += sum(len(v) for k, v in manifest.attributes.values() if k == "value")
        if (
            len(self.pending) >= GROUP_TASKS
            or self.size >= GROUP_BYTES
            or time.monotonic() - self.started >= GROUP_SECONDS
        ):
            self.flush()

    def flush(self) -> None:
        if self.pending:
            pending, self.pending, self.size = self.pending, [], 0
            self.commit_group(pending)
