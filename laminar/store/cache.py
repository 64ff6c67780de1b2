"""The cache index: which committed task holds the outputs of a task key (docs/caching.md).

Entries are written as commits are, in groups: one file
``<root>/<Flow>/@cache/<Layer>/<name>.entries`` per commit group of an execution (a lone task:
a group of one), mapping each task key to the task whose committed manifest holds its
outputs. A file is sealed like a manifest (signed and bound to its place with a signing key)
and written once, exclusively (never replaced). Two files may hold one key: executions
racing, or a task that ran again because the older entry was not served (expired, its files
gone); the newest entry is used. A reader lists and reads a layer's entry files once (per
process) and looks keys up in memory. Anything wrong with a file, or with what an entry
points at, is a miss: the task runs, and a wrong value is never served (``served.py``).

A flow run every night adds files every night, and every task of a cached layer reads them
all, so they are merged (``tidy``): when a layer has more than ``MERGE_FILES`` of them, a
task that writes entries writes one ``merged-<name>.entries`` holding the newest entry of
each key (those older than the layer's ``max_age`` dropped) and naming the files it replaces.
Readers skip the files a merged file replaces; those are deleted ``GRACE`` seconds later, so
a reader that listed them just before the merge still finds them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from laminar.errors import LaminarError
from laminar.store.files import AlreadyCommitted
from laminar.store.objects import Objects

_FIX = "it is ignored (a cache miss)"
#: The suffix of an entry file (one commit group's entries, or a merge of files).
ENTRIES = ".entries"
#: The prefix of a merged file's name: merged files are read first (they say what to skip).
MERGED = "merged-"
#: A layer's entry files are merged into one when a task writing entries finds more.
MERGE_FILES = 64
#: How long (seconds) the files a merge replaced are kept before they are deleted.
GRACE = 3600.0


@dataclass(frozen=True)
class CacheEntry:
    """Where the outputs of one task key were first committed."""

    execution: str
    task: str
    created: float


@dataclass
class EntryFile:
    """One entry file, read: its entries, when it was written, and what it replaces."""

    entries: dict[str, CacheEntry]
    created: float
    replaces: list[str] = field(default_factory=list)


@dataclass
class _Layer:
    """What a process read of one layer's entry files."""

    #: The newest entry of each key.
    known: dict[str, CacheEntry]
    #: The files read whose entries count (none replaced by a merged file).
    live: list[str]
    #: Files a merged file replaced more than ``GRACE`` seconds ago: to delete.
    stale: list[str]
    #: How many files could not be read (damaged or unsigned).
    damaged: int


class CacheIndex:
    """The cache entries of one flow, read and written through the objects (store, seal) of
    the execution asking: the entries themselves belong to no execution. Entries are written
    (``write``) once the commit group holding their tasks is."""

    def __init__(self, objects: Objects) -> None:
        self.objects = objects
        self.store = objects.store
        self._layers: dict[str, _Layer] = {}
        self._tidied: set[str] = set()

    def _place(self, layer: str, name: str) -> tuple[str, ...]:
        return (self.objects.layout.flow, "@cache", layer, name, "cache")

    def _directory(self, layer: str) -> str:
        return self.objects.layout.cache_dir(layer)

    def _read(self, layer: str) -> _Layer:
        """Every readable entry of ``layer``, read once: a file written since is not seen (a
        miss, never a wrong value)."""
        if layer not in self._layers:
            names = [
                n for n in self.store.list_files(self._directory(layer)) if n.endswith(ENTRIES)
            ]
            merged = [n for n in names if n.startswith(MERGED)]
            files = self._files(layer, merged)  # first: they say which files to skip
            replaced: dict[str, float] = {}  # file -> when it was first merged away
            for found in files.values():
                if found is not None:
                    for name in found.replaces:
                        replaced[name] = min(found.created, replaced.get(name, found.created))
            skipped = set(files) | set(replaced)
            files.update(self._files(layer, [n for n in names if n not in skipped]))
            read = _Layer({}, [], [], 0)
            for name, found in files.items():
                if name in replaced:
                    continue
                if found is None:
                    read.damaged += 1
                    continue
                read.live.append(name)
                for key, entry in found.entries.items():
                    old = read.known.get(key)
                    if old is None or (entry.created, entry.execution) > (
                        old.created,
                        old.execution,
                    ):
                        read.known[key] = entry  # the newest: an older one was not served
            now = time.time()
            stale = [n for n, when in replaced.items() if now - when > GRACE]
            # Merged files last: deleted first, the files they replaced would count again.
            read.stale = sorted(stale, key=lambda n: (n.startswith(MERGED), n))
            self._layers[layer] = read
        return self._layers[layer]

    def _files(self, layer: str, names: list[str]) -> dict[str, EntryFile | None]:
        """The files ``names`` of ``layer``, read: None for a damaged or unsigned one (a
        file deleted since it was listed is left out: a miss)."""
        directory = self._directory(layer)
        datas = self.store.read_many([f"{directory}/{name}" for name in names])
        return {
            name: self._unsealed(layer, name, data)
            for name, data in zip(names, datas, strict=True)
            if data is not None
        }

    def _unsealed(self, layer: str, name: str, data: bytes) -> EntryFile | None:
        """The entries of one file, or None when it is damaged or unsigned."""
        try:
            payload = self.objects.seal.unseal(
                data, "cache entries", _FIX, self._place(layer, name)
            )
            raw = json.loads(bytes(payload))
            created = float(raw["created"])
            if name.startswith(MERGED):  # key -> [execution, task, created]
                return EntryFile(
                    {
                        str(k): CacheEntry(str(e), str(t), float(c))
                        for k, (e, t, c) in raw["entries"].items()
                    },
                    created,
                    [str(n) for n in raw["replaces"]],
                )
            execution = str(raw["execution"])  # a commit group's: key -> task
            return EntryFile(
                {str(k): CacheEntry(execution, str(t), created) for k, t in raw["entries"].items()},
                created,
            )
        except (LaminarError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def read(
        self, layer: str, keys: Sequence[str], max_age: float | None
    ) -> list[CacheEntry | None]:
        """The entry of each of ``keys``, or None: missing, damaged, unsigned, or older than
        ``max_age`` seconds."""
        known = self._read(layer).known
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
        self._put(layer, name, body)

    def _put(self, layer: str, name: str, body: str) -> None:
        sealed = self.objects.seal.seal(body.encode(), self._place(layer, name))
        with contextlib.suppress(AlreadyCommitted):  # the same name: the same entries
            self.store.write_atomic(f"{self._directory(layer)}/{name}", sealed, exclusive=True)

    def tidy(self, layer: str, max_age: float | None) -> int:
        """Once per process and layer: delete the files a merge replaced over ``GRACE``
        seconds ago, and merge the layer's files into one when there are more than
        ``MERGE_FILES`` (entries older than ``max_age`` dropped). Returns how many files the
        merge replaced (0: none). Housekeeping: a store that refuses it loses nothing (the
        files stay as they were), so it never fails the task."""
        if layer in self._tidied:
            return 0
        self._tidied.add(layer)
        try:
            return self._tidy(layer, max_age)
        except (LaminarError, OSError):
            return 0

    def _tidy(self, layer: str, max_age: float | None) -> int:
        read = self._read(layer)
        directory = self._directory(layer)
        self.store.remove_files([f"{directory}/{name}" for name in read.stale])
        if len(read.live) <= MERGE_FILES:
            return 0
        now = time.time()
        kept: dict[str, Any] = {
            key: [entry.execution, entry.task, entry.created]
            for key, entry in sorted(read.known.items())
            if max_age is None or now - entry.created <= max_age
        }
        replaces = sorted(read.live)  # two processes merging the same files: one file
        name = MERGED + hashlib.sha256(json.dumps(replaces).encode()).hexdigest()[:40] + ENTRIES
        self._put(layer, name, json.dumps({"created": now, "replaces": replaces, "entries": kept}))
        return len(replaces)

    def entries(self, layer: str) -> list[str]:
        """The keys cached for ``layer`` (read again: the files there now)."""
        self._layers.pop(layer, None)
        return sorted(self._read(layer).known)

    def files(self, layer: str) -> int:
        """How many entry files of ``layer`` are read (those a merge replaced left out)."""
        return len(self._read(layer).live)

    def damaged(self, layer: str) -> int:
        """How many of ``layer``'s entry files could not be read (their entries are misses)."""
        return self._read(layer).damaged

    def clear(self, layer: str) -> None:
        self.store.remove_tree(self._directory(layer))
        self._layers.pop(layer, None)
