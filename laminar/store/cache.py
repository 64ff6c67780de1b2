"""The cache index: which committed task holds the outputs of a task key (docs/caching.md).

An entry ``<root>/<Flow>/@cache/<Layer>/<key>.json`` names the execution and task whose
committed manifest holds the outputs for ``key``; it is sealed like a manifest (signed and
bound to its place with a signing key) and written once, first writer wins. Anything wrong
with an entry, or with what it points at, is a miss: the task runs, and a wrong value is
never served. A hit commits the task with the original's entries, their paths rewritten to
point into the original execution (``../<execution>/...``), so no value is copied.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass
from typing import Any

from laminar.errors import LaminarError
from laminar.store.codec import FILE, REF, SERDE, Entry
from laminar.store.commits import Commits
from laminar.store.datastore import safe_key
from laminar.store.files import AlreadyCommitted
from laminar.store.layout import Layout
from laminar.store.objects import Objects
from laminar.store.records import Manifest
from laminar.store.sources import SHARD

_FIX = "it is ignored (a cache miss)"


@dataclass(frozen=True)
class CacheEntry:
    """Where the outputs of one task key were first committed."""

    execution: str
    task: str
    created: float


class CacheIndex:
    """The cache entries of one flow, read and written through the objects (store, seal) of
    the execution asking: the entries themselves belong to no execution."""

    def __init__(self, objects: Objects) -> None:
        self.objects = objects
        self.store = objects.store

    def _path(self, layer: str, key: str) -> str:
        return f"{self.objects.layout.cache_dir(layer)}/{key}.json"

    def _place(self, layer: str, key: str) -> tuple[str, ...]:
        return (self.objects.layout.flow, "@cache", layer, key, "cache")

    def read(self, layer: str, key: str, max_age: float | None) -> CacheEntry | None:
        """The entry of ``key``, or None: missing, damaged, unsigned, or older than
        ``max_age`` seconds."""
        data = self.store.read_or_none(self._path(layer, key))
        if data is None:
            return None
        try:
            payload = self.objects.seal.unseal(data, "cache entry", _FIX, self._place(layer, key))
            raw = json.loads(bytes(payload))
            entry = CacheEntry(str(raw["execution"]), str(raw["task"]), float(raw["created"]))
        except (LaminarError, ValueError, KeyError, TypeError):
            return None
        if max_age is not None and time.time() - entry.created > max_age:
            return None
        return entry

    def write(self, layer: str, key: str, task: str) -> None:
        """Record that this execution's ``task`` of ``layer`` holds the outputs of ``key``
        (an entry already there stands: it points at outputs as good as these)."""
        body = {"execution": self.objects.id, "task": task, "created": time.time()}
        sealed = self.objects.seal.seal(json.dumps(body).encode(), self._place(layer, key))
        with contextlib.suppress(AlreadyCommitted):
            self.store.write_atomic(self._path(layer, key), sealed, exclusive=True)

    def entries(self, layer: str) -> list[str]:
        """The keys cached for ``layer``."""
        names = self.store.list_files(self.objects.layout.cache_dir(layer))
        return [n[: -len(".json")] for n in names if n.endswith(".json")]

    def clear(self, layer: str) -> None:
        self.store.remove_tree(self.objects.layout.cache_dir(layer))


def original_commits(objects: Objects, execution: str) -> Commits:
    """The commits of another execution of the same flow, read with this one's seal (keep
    it for the next task: it caches the listings and groups a fan-out's tasks share)."""
    layout = Layout(objects.store, objects.layout.flow, execution)
    return Commits(Objects(objects.store, layout, objects.seal))


def served(
    objects: Objects, layer: str, task: str, entry: CacheEntry, original: Commits
) -> Manifest | None:
    """The manifest committing ``task`` of ``layer`` in the execution of ``objects`` from the
    task ``entry`` names (``original``: that execution's commits), or None when that task's
    manifest or files are missing or damaged (a miss)."""
    try:
        found = original.read_manifest(layer, entry.task)
        if found is None or not found.finished:
            return None
        prefix = f"../{safe_key(entry.execution)}/"
        attributes = {name: _rebased(value, prefix) for name, value in found.attributes.items()}
        for name, value in attributes.items():
            _verify(objects, value, f"{layer}.{name}[{task}]")
    except (LaminarError, OSError, ValueError, TypeError):
        return None
    return Manifest(layer, task, attributes, cached_from=entry.execution)


def _path(relative: str, prefix: str) -> str:
    return relative if relative.startswith("../") else prefix + relative


def _rebased(entry: Entry, prefix: str) -> Entry:
    """``entry`` with every file path it names made relative to another execution."""
    kind, payload = entry
    if kind == FILE:
        return (FILE, (_path(payload[0], prefix), payload[1]))
    if kind == SHARD:
        return (SHARD, _chunks(payload, prefix))
    if kind == SERDE and isinstance(payload[1], tuple):
        return (SERDE, (payload[0], (_path(payload[1][0], prefix), payload[1][1])))
    if kind == REF and payload[0] == SHARD:
        return (REF, (SHARD, _chunks(payload[1], prefix), *payload[2:]))
    return entry  # inline values, and joins (of upstream layers whose digests the key holds)


def _chunks(chunks: Any, prefix: str) -> tuple[Any, ...]:
    return tuple((_path(c[0], prefix), *c[1:]) for c in chunks)


def _verify(objects: Objects, entry: Entry, label: str) -> None:
    """Raise unless the files ``entry`` names are there and match their tags."""
    kind, payload = entry
    if kind == FILE:
        objects.read_checked(payload[0], payload[1], label)
    elif kind == SERDE and isinstance(payload[1], tuple):
        objects.read_checked(payload[1][0], payload[1][1], label)
    elif kind in (SHARD, REF):
        chunks = payload if kind == SHARD else payload[1] if payload[0] == SHARD else ()
        for chunk in chunks:
            if not objects.store.exists(objects.layout.absolute(chunk[0])):
                raise FileNotFoundError(chunk[0])
