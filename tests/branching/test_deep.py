"""Deep flows that branch: deciding which jobs wait on which decisions takes one pass over
the flow, never a recursion as deep as the flow (a chain of thousands of layers compiles)."""

from __future__ import annotations

from pathlib import Path

from laminar import Catch, Flow, ForEach, Layer, Parameter
from laminar.backends.argo import ArgoDialect
from laminar.backends.lowering import CompileOptions, lower
from laminar.configurations import hooks
from laminar.ir.branching import deciders, sparse

DEPTH = 3000


def chain(foreach: bool, gate_runs: bool = True) -> type[Flow]:
    """Gate (an entry hook) -> L0 -> L1 -> ... -> L{DEPTH-1}; with ``foreach``, L0 fans out
    over Gate's shard (with ``Catch``: some tasks may not finish) and the rest map 1:1."""

    class Chain(Flow): ...

    @Chain.register
    class Gate(Layer):
        def __call__(self) -> None:
            self.shard(n=[1, 2])

        @hooks.entry
        def ready(self) -> bool:
            return gate_runs

    previous: type[Layer] = Gate
    for i in range(DEPTH):

        def call(self: Layer, up: Layer) -> None:
            self.n = up.n

        call.__annotations__ = {"up": previous, "return": None}
        layer = type(f"L{i}", (Layer,), {"__call__": call, "__module__": __name__})
        over = ForEach(parameters=[Parameter(previous, "n", index=None if i else 0)])
        catch = Catch(ValueError) if foreach and i == 0 else None
        Chain.register(foreach=over if foreach else None, catch=catch)(layer)
        previous = layer
    return Chain


def test_every_layer_of_a_deep_chain_waits_on_the_one_decision() -> None:
    ir = chain(foreach=False).ir()
    waits = deciders(ir)
    assert waits["Gate"] == ()
    assert {waits[f"L{i}"] for i in range(DEPTH)} == {("Gate",)}
    options = CompileOptions(flow_ref="deep.py:Chain", image="registry.example/flows:1")
    dialect = ArgoDialect(options)
    graph = lower(ir, options, dialect.traits, dialect.target)
    last = graph.job(graph.jobs[-1].id)
    assert [(g.layer, g.output.kind.value) for g in last.gates] == [("Gate", "legs")]


def test_a_long_one_to_one_chain_is_sparse_without_recursion() -> None:
    ir = chain(foreach=True).ir()
    assert sparse(ir, f"L{DEPTH - 1}") is True  # L0's caught tasks are left out down the chain
    assert deciders(ir)[f"L{DEPTH - 1}"] == ("Gate",)


def test_a_skip_at_the_top_of_a_deep_chain_is_recorded_down_to_the_last_layer(
    tmp_path: Path,
) -> None:
    execution = chain(foreach=False, gate_runs=False)(datastore=str(tmp_path))()
    last = execution.layer(f"L{DEPTH - 1}").state
    assert (last.finished, last.reason) == (False, "Gate was skipped")
