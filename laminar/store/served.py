"""A cache hit: the task committed again with the values of the task an entry names, read in
place (docs/caching.md). The entries of a commit point into the original execution
(``../<execution>/...``), so no value is copied; anything missing or damaged is a miss.
"""

from __future__ import annotations

from typing import Any

from laminar.errors import LaminarError
from laminar.store.cache import CacheEntry
from laminar.store.codec import FILE, REF, SERDE, Entry
from laminar.store.commits import Commits
from laminar.store.datastore import safe_key
from laminar.store.layout import Layout
from laminar.store.objects import Objects
from laminar.store.records import Manifest
from laminar.store.sources import SHARD


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
