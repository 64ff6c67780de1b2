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
from collections.abc import Callable, Sequence
from typing import Any

from laminar.configurations.layers import Cache
from laminar.configurations.settings import to_data
from laminar.ir import FlowIR, LayerSpec
from laminar.runtime.fanout import fanned_positions
from laminar.runtime.views import element
from laminar.store.accessor import Accessor
from laminar.store.codec import FILE, REF, SERDE, VALUE, Entry
from laminar.store.execution import MAIN, Execution, Manifest, PlanRecord
from laminar.store.sources import SHARD

#: What went into a key: (part name, its digest or value), in order.
Parts = list[tuple[str, str]]
#: One part of the keys of several tasks, as its line of the key's text ("\\nname\\tvalue"):
#: one line every task shares, or a list of one per task.
Column = str | list[str]


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
        lines = [c if isinstance(c, str) else c[0] for c in self._columns(spec, [index], plan)]
        text = self._heads[spec.name] + "".join(lines)
        parts = [(name, value) for name, value in (line[1:].split("\t", 1) for line in lines)]
        return _sha(text), [*self._static_parts(spec), *parts]

    def keys(self, spec: LayerSpec, indices: Sequence[int], plan: PlanRecord) -> list[str]:
        """The keys of tasks ``indices`` of ForEach layer ``spec``, as ``key`` computes them
        one by one, in one pass: each upstream's manifests and the elements the tasks fan out
        over are read a batch at a time (a shard's chunk once, not an element per task), so
        a key costs a couple of microseconds. Raises ``KeyError`` as ``key`` does."""
        columns = self._columns(spec, indices, plan)
        texts = [""] * len(indices)  # each task's text so far, but for the shared lines after
        shared = self._heads[spec.name]
        for column in columns:
            if isinstance(column, str):
                shared += column
            else:
                texts = [f"{text}{shared}{line}" for text, line in zip(texts, column, strict=True)]
                shared = ""
        sha = hashlib.sha256  # the loop runs once per task
        return [sha(f"{text}{shared}".encode()).hexdigest() for text in texts]

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

    def _columns(
        self, spec: LayerSpec, indices: Sequence[int | None], plan: PlanRecord | None
    ) -> list[Column]:
        """The parts of the tasks' keys but the static ones, in the key's order (the task,
        the inputs, then each upstream's), each part a column of its lines: one every task
        shares, or a list of one per task. The key's text is the static parts' digest, then a
        line per part, "\\n" name "\\t" digest: names of layers and attributes (identifiers)
        and digests, so no two lists of parts make the same text."""
        self._static_parts(spec)
        columns: list[Column] = [[f"\ntask\t{MAIN if i is None else i}" for i in indices]]
        if spec.reads_inputs:
            if self._inputs is None:  # the execution's inputs: the same for every task
                self._inputs = _sha(json.dumps(self.inputs(), sort_keys=True, default=repr))
            columns.append(f"\ninputs\t{self._inputs}")
        fanned = (
            fanned_positions(plan, [i for i in indices if i is not None])
            if plan is not None and None not in indices
            else {}
        )
        for upstream in spec.dependencies:
            columns.extend(self._upstream_columns(upstream, fanned))
        return columns

    def _upstream_columns(
        self, upstream: str, fanned: dict[tuple[str, str], tuple[list[int], bool]]
    ) -> list[Column]:
        """``upstream``'s parts (``fanned``: per attribute the tasks fan out over, each task's
        element position, and whether it maps 1:1)."""
        spec = self.ir.spec(upstream)
        mine = {attr: found for (layer, attr), found in fanned.items() if layer == upstream}
        mapped = [positions for positions, is_mapped in mine.values() if is_mapped]
        if mapped:  # 1:1 onto one task of a ForEach upstream: that task, whole
            tasks = [str(position) for position in mapped[0]]
            manifests = self.execution.commits.read_manifests(upstream, tasks)
            return [
                [
                    f"\n{upstream}[{task}]\t{self._manifest(manifest, frozenset())}"
                    for task, manifest in zip(tasks, manifests, strict=True)
                ]
            ]
        columns: list[Column] = [f"\n{upstream}\t{self._layer(spec, frozenset(mine))}"]
        for attribute, (positions, _) in sorted(mine.items()):
            digests = self._elements(spec, attribute, positions)
            label = f"{upstream}.{attribute}"
            columns.append(
                [f"\n{label}[{p}]\t{d}" for p, d in zip(positions, digests, strict=True)]
            )
        return columns

    def _elements(self, spec: LayerSpec, attribute: str, positions: list[int]) -> list[str]:
        """The digests of elements ``positions`` of ``spec.attribute``, from their stored
        bytes where they are kept (a ForEach task's value, a shard's element), else
        re-pickled."""
        if spec.is_foreach:
            tasks = positions
            plan = self.execution.commits.read_plan(spec.name)
            if plan is not None and plan.sparse:
                finished = self.execution.finished_tasks(spec.name, plan.count)
                tasks = [finished[position] for position in positions]
            names = [str(task) for task in tasks]
            manifests = self.execution.commits.read_manifests(spec.name, names)
            digests = []
            for task, manifest in zip(names, manifests, strict=True):
                if (
                    manifest is None
                    or not manifest.finished
                    or attribute not in manifest.attributes
                ):
                    entry = self.execution.entry(spec.name, task, attribute, reader="")  # raises
                else:
                    entry = manifest.attributes[attribute]
                digests.append(self.entry(spec.name, task, attribute, entry))
            return digests
        known = (spec.name, attribute)
        if known not in self._wholes:  # one Accessor for every task's element
            read = self.execution.attribute(spec.name, attribute, reader="", foreach=False)
            self._wholes[known] = read
        whole = self._wholes[known]
        stored = whole.stored_many(positions) if isinstance(whole, Accessor) else None
        if stored is not None:
            sha = hashlib.sha256
            return [sha(data).hexdigest() for data in stored]
        return [self._pickled(spec, attribute, position) for position in positions]

    def _pickled(self, spec: LayerSpec, attribute: str, position: int) -> str:
        """The digest of an element kept only inside its whole value: pickled again."""
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
