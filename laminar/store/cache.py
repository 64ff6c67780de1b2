"""The cache index: which committed task holds the outputs of a task key (docs/caching.md).

Entries are written as commits are, in groups: one file
``<root>/<Flow>/@cache/<Layer>/<name>.entries`` per commit group of an execution (a lone task:
a group of one), mapping each task key to the task whose committed manifest holds its
outputs. A file is sealed like a manifest (signed and bound to its place with a signing key)
and written once, exclusively (never replaced). Two files may hold one key: executions
racing, or a task that ran again because the older entry was not served (expired, its files
gone); the newest entry is used. A reader lists and reads a layer's entry files once (per
process) and looks keys up in memory. Anything wrong with a file, or with what an entry
points at, is a miss: the task runs, and a wrong value is never served. A hit commits the task
with the original's entries, their paths rewritten to point into the original execution
(``../<execution>/...``), so no value is copied.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Sequence
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
#: The suffix of an entry file (one commit group's entries).
ENTRIES = ".entries"


@dataclass(frozen=True)
class CacheEntry:
    """Where the outputs of one task key were first committed."""

    execution: str
    task: str
    created: float


class CacheIndex:
    """The cache entries of one flow, read and written through the objects (store, seal) of
    the execution asking: the entries themselves belong to no execution. Entries are written
    (``write``) once the commit group holding their tasks is."""

    def __init__(self, objects: Objects) -> None:
        self.objects = objects
        self.store = objects.store
        #: Per layer, the entries of the files read, by key, and how many files were damaged.
        self._known: dict[str, dict[str, CacheEntry]] = {}
        self._damaged: dict[str, int] = {}

    def _place(self, layer: str, name: str) -> tuple[str, ...]:
        return (self.objects.layout.flow, "@cache", layer, name, "cache")

    def _entries(self, layer: str) -> dict[str, CacheEntry]:
        """Every readable entry of ``layer``, read once: a file written since is not seen (a
        miss, never a wrong value)."""
        if layer not in self._known:
            directory = self.objects.layout.cache_dir(layer)
            names = [n for n in self.store.list_files(directory) if n.endswith(ENTRIES)]
            datas = self.store.read_many([f"{directory}/{name}" for name in names])
            known: dict[str, CacheEntry] = {}
            damaged = 0
            for name, data in zip(names, datas, strict=True):
                group = self._unsealed(layer, name, data) if data is not None else {}
                if group is None:
                    damaged += 1
                    continue
                for key, entry in group.items():
                    old = known.get(key)
                    if old is None or (entry.created, entry.execution) > (
                        old.created,
                        old.execution,
                    ):
                        known[key] = entry  # the newest: an older one was not served
            self._known[layer], self._damaged[layer] = known, damaged
        return self._known[layer]

    def _unsealed(self, layer: str, name: str, data: bytes) -> dict[str, CacheEntry] | None:
        """The entries of one file, or None when it is damaged or unsigned."""
        try:
            place = self._place(layer, name)
            payload = self.objects.seal.unseal(data, "cache entries", _FIX, place)
            raw = json.loads(bytes(payload))
            execution, created = str(raw["execution"]), float(raw["created"])
            return {
                str(key): CacheEntry(execution, str(task), created)
                for key, task in raw["entries"].items()
            }
        except (LaminarError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def read(
        self, layer: str, keys: Sequence[str], max_age: float | None
    ) -> list[CacheEntry | None]:
        """The entry of each of ``keys``, or None: missing, damaged, unsigned, or older than
        ``max_age`` seconds."""
        known = self._entries(layer)
        found = [known.get(key) for key in keys]
        if max_age is None:
            return found
        now = time.time()
        return [e if e is not None and now - e.created <= max_age else None for e in found]

    def write(self, layer: str, entries: dict[str, str]) -> None:
        """Write one file of entries (key -> task) pointing at tasks of ``layer`` this
        execution has committed (a file already there with the same entries stands: it is
        the same file, written again by a task that ran again)."""
        listed = json.dumps(entries)  # the tasks' order: the same whenever they are
        what = json.dumps(self.objects.id) + listed
        name = hashlib.sha256(what.encode()).hexdigest()[:40] + ENTRIES
        head = json.dumps({"execution": self.objects.id, "created": time.time()})
        body = head[:-1] + ', "entries": ' + listed + "}"  # one encoding of the entries
        sealed = self.objects.seal.seal(body.encode(), self._place(layer, name))
        path = f"{self.objects.layout.cache_dir(layer)}/{name}"
        with contextlib.suppress(AlreadyCommitted):
            self.store.write_atomic(path, sealed, exclusive=True)

    def entries(self, layer: str) -> list[str]:
        """The keys cached for ``layer`` (read again: the files there now)."""
        self._known.pop(layer, None)
        return sorted(self._entries(layer))

    def damaged(self, layer: str) -> int:
        """How many of ``layer``'s entry files could not be read (their entries are misses)."""
        self._entries(layer)
        return self._damaged[layer]

    def clear(self, layer: str) -> None:
        self.store.remove_tree(self.objects.layout.cache_dir(layer))
        self._known.pop(layer, None)


def original_commits(objects: Objects, execution: str) -> Commits:
    """The commits of another execution of the same flow, read with this one's seal (keep
    it for the next task: it caches the listings and groups a fan-out's tasks share)."""
    layout = Layout(objects.store, objects.layout.flow, execution)
    return Commits(Objects(objects.store, layout, objects.seal))


def served(
    objects: Objects, layer: str, task: str, key: str, entry: CacheEntry, original: Commits
) -> Manifest | None:
    """The manifest committing ``task`` of ``layer`` in the execution of ``objects`` from the
    task ``entry`` of ``key`` names (``original``: that execution's commits), or None when
    that task's manifest or files are missing or damaged, or it was committed under another
    key (run again since the entry was written): a miss."""
    try:
        found = original.read_manifest(layer, entry.task)
        if found is None or not found.finished or found.cache_key != key:
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
