"""Ordering a flow's layers without networkx: cycle detection and a deterministic
topological order (registration order breaks ties), for every deployed task's start-up."""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from typing import Protocol


class LayerSpec(Protocol):
    """What ordering reads of a ``laminar.ir.LayerSpec`` (this module is below it)."""

    @property
    def dependencies(self) -> tuple[str, ...]: ...


def successors_of(layers: Mapping[str, LayerSpec]) -> dict[str, list[str]]:
    """Each layer's dependents, in registration order (every dependency is registered)."""
    successors: dict[str, list[str]] = {name: [] for name in layers}
    for name, spec in layers.items():
        for upstream in spec.dependencies:
            successors[upstream].append(name)
    return successors


def find_cycle(successors: dict[str, list[str]]) -> list[str]:
    """The layers of one dependency cycle, in dependency order, or ``[]`` if there is none.

    A depth-first search from each layer in registration order, following dependents in
    registration order: the same cycle ``networkx.find_cycle`` reports on ``FlowIR.graph``,
    so the error names the same layers it always did.
    """
    done: set[str] = set()
    for root in successors:
        if root in done:
            continue
        path = [root]
        on_path = {root}
        pending = [iter(successors[root])]
        while pending:
            head = next(pending[-1], None)
            if head is None:
                pending.pop()
                done.add(path[-1])
                on_path.discard(path.pop())
            elif head in on_path:
                return path[path.index(head) :]
            elif head not in done:
                path.append(head)
                on_path.add(head)
                pending.append(iter(successors[head]))
    return []


def topological_order(
    layers: Mapping[str, LayerSpec], successors: dict[str, list[str]]
) -> tuple[str, ...]:
    """Kahn's algorithm taking the earliest-registered ready layer first (an acyclic graph)."""
    position = {name: i for i, name in enumerate(layers)}
    waiting = {name: len(spec.dependencies) for name, spec in layers.items()}
    # Ready layers by descending registration position: the earliest is last, popped first.
    ready = sorted((-position[name], name) for name, count in waiting.items() if count == 0)
    order: list[str] = []
    while ready:
        _, name = ready.pop()
        order.append(name)
        for downstream in successors[name]:
            waiting[downstream] -= 1
            if waiting[downstream] == 0:
                bisect.insort(ready, (-position[downstream], downstream))
    return tuple(order)
