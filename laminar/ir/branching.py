"""Which layers may be skipped, and what decides it: read by the runtime and the lowering.

A layer is skipped when an entry hook returns False, or when a layer it depends on did not
finish (skipped, or its failure caught) and it has no entry hook of its own to decide. So
whether a layer runs is decided by a few *deciders*: layers without ForEach that have an entry
hook (decided before they run) or ``Catch`` (decided by how they end). A ForEach layer's entry
hook decides per task; the layer itself is skipped only when what it fans out over was.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from laminar.ir import FlowIR, LayerSpec


def decides(spec: LayerSpec) -> bool:
    """Whether ``spec`` itself may not finish while everything before it did."""
    return not spec.is_foreach and (spec.has_entry or spec.settings.catch is not None)


def sparse(ir: FlowIR, name: str) -> bool:
    """Whether some tasks of ForEach layer ``name`` may not finish (entry hook, Catch, or a
    1:1 mapping onto such a layer): its join then holds only the tasks that finished."""
    todo, seen = [name], set()
    while todo:  # along 1:1 mappings, without recursion (a chain may be long)
        spec = ir.spec(todo.pop())
        if not spec.is_foreach:
            continue
        if spec.has_entry or spec.settings.catch is not None:
            return True
        for p in spec.foreach:
            if p.mapped and p.layer not in seen:
                seen.add(p.layer)
                todo.append(p.layer)
    return False


def skips_with(spec: LayerSpec, upstream: str) -> bool:
    """Whether ``spec`` is skipped, for sure, when its dependency ``upstream`` did not finish."""
    if not spec.has_entry:
        return True
    return any(p.layer == upstream for p in spec.foreach)  # nothing to fan out over


def skip_upstreams(spec: LayerSpec) -> tuple[str, ...]:
    """The upstreams that skip ``spec`` when one did not finish: all of them without an entry
    hook; with one, only what a ForEach fans out over (the hook decides the rest)."""
    if not spec.has_entry:
        return spec.dependencies
    return tuple(sorted({p.layer for p in spec.foreach}))


def skip_closure(ir: FlowIR, name: str) -> list[str]:
    """The layers after ``name`` that are skipped for sure when ``name`` did not finish, in
    run order: committing their skips at once lets an orchestrator skip their jobs unrun."""
    found: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        for downstream in ir.downstream(current):
            if downstream not in found and skips_with(ir.spec(downstream), current):
                found.add(downstream)
                todo.append(downstream)
    return [n for n in ir.order if n in found]


def deciders(ir: FlowIR) -> dict[str, tuple[str, ...]]:
    """Layer -> the deciders whose decisions say whether its jobs start (not counting its own
    decision), in run order: each must have decided to run for the layer to run.

    Computed once for the whole flow in run order (a layer's upstreams before it), so a deep
    or wide flow costs one pass, not one walk per layer.
    """
    if not ir.branches:
        return {name: () for name in ir.order}
    gates: dict[str, frozenset[str]] = {}
    ran: dict[str, frozenset[str]] = {}  # the deciders that say whether a layer finished
    for name in ir.order:
        spec = ir.spec(name)
        if spec.has_entry:
            # The hook decides whatever happened before; a ForEach still needs what it fans
            # out over.
            upstreams = [p.layer for p in spec.foreach] if spec.is_foreach else []
        else:
            upstreams = list(spec.dependencies)
        gates[name] = frozenset().union(*(ran[u] for u in upstreams))
        if decides(spec) and spec.has_entry:
            ran[name] = frozenset({name})  # its entry hook runs whatever came before
        else:
            ran[name] = gates[name] | ({name} if decides(spec) else set())
    position = {name: i for i, name in enumerate(ir.order)}
    return {name: tuple(sorted(found, key=position.__getitem__)) for name, found in gates.items()}
