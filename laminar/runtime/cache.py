"""Cache keys: what a task of a cached layer reads, digested (SHA-256) into one key.

A key covers, conservatively (more rather than less, so a change never serves a stale value):

* ``code``: the source of the layer's class and of every hook it runs (``inspect``);
* ``version``: ``Cache(version=...)``;
* ``settings``: the layer's settings that can change what it computes (not ``retry``,
  ``timeout`` or ``max_age``);
* ``task``: the task's index in its ForEach (a task can read ``self.index``);
* ``inputs``: every flow input, when the layer takes the ``Parameters`` layer;
* per upstream layer it depends on: every attribute it stored, digested from the stored
  bytes, except the attributes it fans out over, of which only this task's element counts
  (``U.attr[position]``); a ForEach upstream mapped 1:1 counts that one task.

A part that cannot be digested (a class without source, an element that cannot be pickled)
gives no key: the task runs and is not cached. Secret values never enter a key (a layer's
settings name its secrets, they do not hold them).
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import pickle
from collections.abc import Callable
from typing import Any

from laminar.configurations.layers import Cache
from laminar.configurations.settings import to_data
from laminar.ir import FlowIR, LayerSpec
from laminar.runtime.fanout import positions
from laminar.runtime.views import element
from laminar.store.accessor import Accessor
from laminar.store.codec import FILE, REF, SERDE, VALUE, Entry
from laminar.store.execution import MAIN, Execution, Manifest, PlanRecord
from laminar.store.sources import SHARD

#: What went into a key: (part name, its digest or value), in order.
Parts = list[tuple[str, str]]


def _sha(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


class TaskKeys:
    """Computes task keys for one execution, each upstream value digested once."""

    def __init__(
        self, ir: FlowIR, execution: Execution, inputs: Callable[[], dict[str, Any]]
    ) -> None:
        self.ir = ir
        self.execution = execution
        self.inputs = inputs
        self._entries: dict[tuple[str, str, str], str] = {}
        self._layers: dict[tuple[str, frozenset[str]], str] = {}
        self._static: dict[str, Parts] = {}
        self._wholes: dict[tuple[str, str], Any] = {}
        self._heads: dict[str, str] = {}
        self._inputs: str | None = None

    def key(self, spec: LayerSpec, index: int | None, plan: PlanRecord | None) -> tuple[str, Parts]:
        """The key of task ``index`` of ``spec`` and what went into it; raises ``KeyError``
        when a part cannot be digested (the task then runs uncached)."""
        static = self._static_parts(spec)
        parts = [("task", MAIN if index is None else str(index))]
        if spec.reads_inputs:
            if self._inputs is None:  # the execution's inputs: the same for every task
                self._inputs = _sha(json.dumps(self.inputs(), sort_keys=True, default=repr))
            parts.append(("inputs", self._inputs))
        fanned = positions(plan, index) if plan is not None and index is not None else {}
        for upstream in spec.dependencies:
            parts.extend(self._upstream_parts(upstream, fanned))
        # The static parts' digest, then one line per part: names of layers and attributes
        # (identifiers) and digests, so no two lists of parts make the same text.
        text = self._heads[spec.name] + "".join(f"\n{name}\t{value}" for name, value in parts)
        return _sha(text), [*static, *parts]

    def _static_parts(self, spec: LayerSpec) -> Parts:
        """What is the same for every task of the layer: its code, version and settings."""
        if spec.name not in self._static:
            cache = spec.settings.cache or Cache()
            try:
                sources = [inspect.getsource(self.ir.classes[spec.name])]
                sources += [inspect.getsource(hook.function) for hook in spec.hooks]
            except (OSError, TypeError) as error:
                raise KeyError(f"the source of {spec.name} cannot be read ({error})") from None
            kept = dataclasses.replace(spec.settings, retry=None, timeout=None, cache=None)
            self._static[spec.name] = [
                ("code", _sha("\n".join(sources))),
                ("version", cache.version),
                ("settings", _sha(json.dumps(to_data(kept), sort_keys=True))),
            ]
            self._heads[spec.name] = _sha(json.dumps(self._static[spec.name]))
        return self._static[spec.name]

    def _upstream_parts(
        self, upstream: str, fanned: dict[tuple[str, str], tuple[int, bool]]
    ) -> Parts:
        spec = self.ir.spec(upstream)
        mine = {attr: pos for (layer, attr), pos in fanned.items() if layer == upstream}
        mapped = [position for position, is_mapped in mine.values() if is_mapped]
        if mapped:  # 1:1 onto one task of a ForEach upstream: that task, whole
            task = str(mapped[0])
            manifest = self.execution.commits.read_manifest(upstream, task)
            return [(f"{upstream}[{task}]", self._manifest(manifest, frozenset()))]
        parts = [(upstream, self._layer(spec, frozenset(mine)))]
        for attribute, (position, _) in sorted(mine.items()):
            parts.append(
                (f"{upstream}.{attribute}[{position}]", self._element(spec, attribute, position))
            )
        return parts

    def _element(self, spec: LayerSpec, attribute: str, position: int) -> str:
        """The digest of element ``position`` of ``spec.attribute``, from its stored bytes
        where they are kept (a ForEach task's value, a shard's element), else re-pickled."""
        if spec.is_foreach:
            task = position
            plan = self.execution.commits.read_plan(spec.name)
            if plan is not None and plan.sparse:
                task = self.execution.finished_tasks(spec.name, plan.count)[position]
            entry = self.execution.entry(spec.name, str(task), attribute, reader="")
            return self.entry(spec.name, str(task), attribute, entry)
        known = (spec.name, attribute)
        if known not in self._wholes:  # one Accessor for every task's element
            read = self.execution.attribute(spec.name, attribute, reader="", foreach=False)
            self._wholes[known] = read
        whole = self._wholes[known]
        stored = whole.stored(position) if isinstance(whole, Accessor) else None
        if stored is not None:
            return _sha(stored)
        try:
            value = element(self.execution, spec, attribute, position)
            data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as error:
            label = f"{spec.name}.{attribute}[{position}]"
            raise KeyError(f"{label} cannot be pickled") from error
        return _sha(data)

    def _layer(self, spec: LayerSpec, without: frozenset[str]) -> str:
        """The digest of every task of ``spec``, but for the attributes ``without``."""
        known = (spec.name, without)
        if known not in self._layers:
            if spec.is_foreach:
                plan = self.execution.commits.read_plan(spec.name)
                count = 0 if plan is None else plan.count
                tasks = [str(t) for t in range(count)]
            else:
                tasks = [MAIN]
            manifests = self.execution.commits.read_manifests(spec.name, tasks)
            digests = [self._manifest(m, without) for m in manifests]
            self._layers[known] = _sha(json.dumps(digests))
        return self._layers[known]

    def _manifest(self, manifest: Manifest | None, without: frozenset[str]) -> str:
        if manifest is None:
            return "none"
        if not manifest.finished:
            return _sha(json.dumps([manifest.status, manifest.reason]))
        digests = [
            (name, self.entry(manifest.layer, manifest.task, name, entry))
            for name, entry in sorted(manifest.attributes.items())
            if name not in without
        ]
        return _sha(json.dumps(digests))

    def entry(self, layer: str, task: str, name: str, entry: Entry) -> str:
        """The digest of one stored value, from its bytes (not its path or its CRC)."""
        known = (layer, task, name)
        if known not in self._entries:
            self._entries[known] = self._digest(entry, f"{layer}.{name}[{task}]")
        return self._entries[known]

    def _digest(self, entry: Entry, label: str) -> str:
        kind, payload = entry
        objects = self.execution.objects
        if kind == VALUE:
            return _sha(payload)
        if kind == FILE:
            return _sha(objects.read_checked(payload[0], payload[1], label))
        if kind == SERDE:
            name, stored = payload
            if isinstance(stored, tuple):
                stored = objects.read_checked(stored[0], stored[1], label)
            return _sha(json.dumps([name, _sha(stored)]))
        if kind == SHARD or (kind == REF and payload[0] == SHARD):
            chunks = payload if kind == SHARD else payload[1]
            hasher = hashlib.sha256()
            for chunk in chunks:
                hasher.update(objects.store.read(objects.layout.absolute(chunk[0])))
            return hasher.hexdigest()
        if kind == REF:  # a join: the attribute of each task it holds
            _, layer, _attribute, count, *tasks = payload
            which = tasks[0] if tasks and tasks[0] is not None else range(count)
            found = self.execution.commits.read_manifests(layer, [str(t) for t in which])
            return _sha(json.dumps([self._manifest(m, frozenset()) for m in found]))
        raise KeyError(f"{label}: unknown entry {kind!r}")
