"""The IR is built without networkx, yet orders layers and names cycles exactly as networkx does.

The runtime builds the IR in every deployed task, so ``build_ir`` checks cycles and orders the
layers in plain Python; ``FlowIR.graph`` still gives compilers a ``networkx.DiGraph``. These
tests hold the plain-Python algorithms to networkx's answers on many random graphs.
"""

from __future__ import annotations

import random

import networkx as nx
import pytest
from conftest import EXAMPLES

from laminar.ir import LayerSpec
from laminar.ir.order import find_cycle, successors_of, topological_order
from laminar.model.loader import load_flow


def random_layers(seed: int, acyclic: bool) -> dict[str, LayerSpec]:
    """Layers in a random registration order, each depending on a few random others."""
    rng = random.Random(seed)
    size = rng.randint(1, 12)
    names = [f"L{i}" for i in range(size)]
    rng.shuffle(names)  # registration order differs from name order
    layers = {}
    for position, name in enumerate(names):
        pool = names[:position] if acyclic else [n for n in names if n != name]
        count = rng.randint(0, min(3, len(pool)))
        chosen = rng.sample(pool, count)
        if not acyclic and rng.random() < 0.05:
            chosen.append(name)  # a layer that depends on itself
        dependencies = tuple(sorted(chosen))
        layers[name] = LayerSpec(name=name, arguments=(), dependencies=dependencies)
    if acyclic:  # registration order need not be a topological one
        items = list(layers.items())
        rng.shuffle(items)
        layers = dict(items)
    return layers


def networkx_graph(layers: dict[str, LayerSpec]) -> nx.DiGraph[str]:
    """The graph exactly as build_ir used to make it."""
    graph: nx.DiGraph[str] = nx.DiGraph()
    for name, spec in layers.items():
        graph.add_node(name, spec=spec)
    for name in layers:
        for upstream in layers[name].dependencies:
            graph.add_edge(upstream, name)
    return graph


@pytest.mark.parametrize("seed", range(300))
def test_the_same_cycle_as_networkx(seed: int) -> None:
    layers = random_layers(seed, acyclic=False)
    try:
        expected = [edge[0] for edge in nx.find_cycle(networkx_graph(layers))]
    except nx.NetworkXNoCycle:
        expected = []
    assert find_cycle(successors_of(layers)) == expected


@pytest.mark.parametrize("seed", range(200))
def test_the_same_order_as_networkx(seed: int) -> None:
    layers = random_layers(seed, acyclic=True)
    position = {name: i for i, name in enumerate(layers)}
    graph = networkx_graph(layers)
    assert find_cycle(successors_of(layers)) == []
    expected = tuple(nx.lexicographical_topological_sort(graph, key=lambda n: position[n]))
    assert topological_order(layers, successors_of(layers)) == expected


def test_graph_is_the_networkx_graph_compilers_read() -> None:
    ir = load_flow(str(EXAMPLES / "diamond.py")).ir()
    graph = ir.graph
    assert isinstance(graph, nx.DiGraph)
    assert list(graph.nodes) == ["A", "B", "C", "D"]
    assert sorted(graph.edges) == [("A", "B"), ("A", "C"), ("B", "D"), ("C", "D")]
    assert all(graph.nodes[name]["spec"] is ir.spec(name) for name in ir.order)
    assert ir.graph is graph  # built once
    assert list(nx.topological_sort(graph)) == list(ir.order)
