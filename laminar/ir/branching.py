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
    return not spec.is_foreach and (spec.has_entry or spec.catch is not None)


def sparse(ir: FlowIR, name: str) -> bool:
    """Whether some tasks of ForEach layer ``name`` may not finish (entry hook, Catch, or a
    1:1 mapping onto such a layer): its join then holds only the tasks that finished."""
    spec = ir.spec(name)
    if not spec.is_foreach:
        return False
    if spec.has_entry or spec.catch is not None:
        return True
    return any(p.mapped and sparse(ir, p.layer) for p in spec.foreach)


def skips_with(spec: LayerSpec, upstream: str) -> bool:
    """Whether ``spec`` is skipped, for sure, when its dependency ``upstream`` did not finish."""
    if not spec.has_entry:
        return True
    return any(p.layer == upstream for p in spec.foreach)  # nothing to fan out over


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


def deciders(ir: FlowIR, name: str) -> list[str]:
    """The deciders whose decisions say whether layer ``name``'s jobs start (not counting its
    own decision): each must have decided to run for ``name`` to run. In run order."""
    found = _gates(ir, name, {})
    return [n for n in ir.order if n in found]


def _gates(ir: FlowIR, name: str, memo: dict[str, frozenset[str]]) -> frozenset[str]:
    if name in memo:
        return memo[name]
    spec = ir.spec(name)
    if spec.has_entry:
        # The hook decides whatever happened before; a ForEach still needs what it fans over.
        upstreams = [p.layer for p in spec.foreach] if spec.is_foreach else []
    else:
        upstreams = list(spec.dependencies)
    found: set[str] = set()
    for upstream in upstreams:
        found |= _ran(ir, upstream, memo)
    memo[name] = frozenset(found)
    return memo[name]


def _ran(ir: FlowIR, name: str, memo: dict[str, frozenset[str]]) -> frozenset[str]:
    """The deciders that say whether ``name`` finished."""
    spec = ir.spec(name)
    if decides(spec) and spec.has_entry:
        return frozenset({name})  # its entry hook ran whatever came before
    own = frozenset({name}) if decides(spec) else frozenset()
    return own | _gates(ir, name, memo)
