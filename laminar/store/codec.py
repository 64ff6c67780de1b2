"""How an attribute's value becomes a manifest entry, and back.

A manifest maps each attribute a task set to one entry:

=========  =====================================================================
``value``  the pickled value, inline (values under 64 KiB: one write per task)
``file``   ``(path, tag)``: a file under the attempt directory, and its tag
``shard``  ``((path, count, size, tags), ...)``: chunk files, tagged per 64 KiB block
``ref``    a stored Accessor's reference (a shard's chunks, or a ForEach join)
``serde``  ``(type name, bytes or (path, tag))``: a value stored by a user's serde protocol
=========  =====================================================================

Tags (``laminar.store.integrity``) are recorded by the manifest that names the file, so a
file is checked against what its commit promised before anything unpickles it.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from laminar.errors import ArtifactError
from laminar.pickling import cloudpickle
from laminar.store import chunks
from laminar.store.accessor import Accessor
from laminar.store.commits import Commits
from laminar.store.integrity import Tag
from laminar.store.layout import Layout
from laminar.store.objects import Objects
from laminar.store.sources import SHARD, JoinSource, ShardSource

#: Values whose pickle is smaller than this live inside the manifest: one write per task.
INLINE_BYTES = 64 * 1024
VALUE, FILE, REF, SERDE = "value", "file", "ref", "serde"  # and SHARD (laminar.store.sources)

Entry = tuple[str, Any]


class Codec:
    """Encodes attribute values into entries (writing files as needed) and decodes them."""

    def __init__(
        self, objects: Objects, commits: Commits, protocols: Mapping[str, Any] | None = None
    ) -> None:
        self.objects = objects
        #: Where a join's elements come from (the manifests of the tasks it joins).
        self.commits = commits
        #: Type name -> the user's serde protocol for values of that type.
        self.protocols: Mapping[str, Any] = protocols if protocols is not None else {}

    def encode(self, layer: str, attribute: str, value: Any, attempt: str) -> Entry:
        """Store ``value`` and return its manifest entry."""
        if isinstance(value, Accessor):
            return (REF, value.source.describe())
        protocol = self.protocols.get(type(value).__name__)
        if protocol is not None:
            return self._encode_serde(layer, attribute, value, attempt, protocol)
        try:
            data = cloudpickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as error:
            raise ArtifactError(
                f"Layer {layer} set self.{attribute} to a value that cannot be stored "
                f"({type(value).__name__}: {error}). Store picklable values, or keep "
                f"it private to the run by naming it self._{attribute}."
            ) from error
        if len(data) <= INLINE_BYTES:
            return (VALUE, data)
        relative = Layout.value_file(attempt, attribute)
        self._write(relative, data)
        return (FILE, (relative, self.objects.seal.tag(data)))

    def _write(self, relative: str, data: bytes) -> None:
        self.objects.store.write(self.objects.layout.absolute(relative), data)

    def _encode_serde(
        self, layer: str, attribute: str, value: Any, attempt: str, protocol: Any
    ) -> Entry:
        name = type(value).__name__
        try:
            data = protocol.dumps(value)
        except Exception as error:
            raise ArtifactError(
                f"Layer {layer}: the serde protocol {type(protocol).__name__} for {name} could "
                f"not store self.{attribute} ({type(error).__name__}: {error})."
            ) from error
        if not isinstance(data, (bytes, bytearray)):
            raise ArtifactError(
                f"Layer {layer}: {type(protocol).__name__}.dumps returned "
                f"{type(data).__name__} for self.{attribute}; it must return bytes."
            )
        data = bytes(data)
        if len(data) <= INLINE_BYTES:
            return (SERDE, (name, data))
        relative = Layout.value_file(attempt, attribute)
        self._write(relative, data)
        return (SERDE, (name, (relative, self.objects.seal.tag(data))))

    def _decode_serde(self, payload: Any, label: str) -> Any:
        name, stored = payload
        protocol = self.protocols.get(name)
        if protocol is None:
            raise ArtifactError(
                f"{label} was stored by a serde protocol for {name}, and none is registered "
                "in this process: import the module that registers it (the flow's file) "
                "before reading."
            )
        if isinstance(stored, tuple):
            relative, tag = stored
            stored = self.objects.read_checked(relative, tag, label)
        return protocol.loads(stored)

    def write_shard(self, layer: str, attribute: str, values: Iterable[Any], attempt: str) -> Entry:
        def on_error(position: int, error: Exception) -> Exception:
            return ArtifactError(
                f"Layer {layer}: element {position} of self.shard({attribute}=...) cannot be "
                f"stored ({error}). Shard picklable values."
            )

        tags: dict[str, tuple[int, tuple[Tag, ...]]] = {}
        tag_blocks = self.objects.seal.tag_blocks

        def write(relative: str, data: bytes) -> None:
            tags[relative] = (len(data), tag_blocks(data))
            self._write(relative, data)

        name: Callable[[int], str] = lambda k: Layout.chunk_file(attempt, attribute, k)  # noqa: E731
        infos = chunks.write_chunks(values, write, name, on_error)
        return (SHARD, tuple((c.path, c.count, *tags[c.path]) for c in infos))

    def decode(self, entry: Entry, label: str) -> Any:
        """The value of ``entry``; ``label`` (``Layer.attr[task]``) names it in errors."""
        kind, payload = entry
        if kind == VALUE:
            return pickle.loads(payload)
        if kind == FILE:
            relative, tag = payload
            return pickle.loads(self.objects.read_checked(relative, tag, label))
        if kind == SHARD:
            return Accessor(ShardSource(self.objects, payload, label))
        if kind == REF:
            return Accessor(self.source_from(payload, label))
        if kind == SERDE:
            return self._decode_serde(payload, label)
        raise ArtifactError(f"Unknown artifact entry {kind!r} for {label}.")  # pragma: no cover

    def source_from(self, description: tuple[Any, ...], label: str) -> ShardSource | JoinSource:
        if description[0] == SHARD:
            # The shard keeps the label of the layer that wrote it, for errors about its files.
            owner = description[2] if len(description) > 2 else label
            return ShardSource(self.objects, description[1], owner)
        _, layer, attribute, count, *tasks = description
        return self.join(layer, attribute, count, tasks[0] if tasks else None)

    def join(
        self, layer: str, attribute: str, count: int, tasks: Sequence[int] | None = None
    ) -> JoinSource:
        """``attribute`` of the tasks of ForEach layer ``layer`` (``tasks``: those that
        finished, when some may not have), each decoded by this codec."""
        return JoinSource(self.commits, self.decode, layer, attribute, count, tasks)
