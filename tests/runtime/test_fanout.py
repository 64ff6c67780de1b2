"""ForEach semantics: grid order, unsharded parameters, chains, joins, empty fan-outs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from laminar import Flow, Layer
from laminar.configurations.layers import ForEach, Parameter
from laminar.errors import ExecutionError
from laminar.runtime.executor import execute
from laminar.runtime.results import ExecutionResults
from laminar.store.datastore import Datastore


def run(flow: type[Flow], tmp_path: Path) -> ExecutionResults:
    store = Datastore(str(tmp_path / "store"))
    ir = flow.ir()
    return ExecutionResults(ir, execute(ir, store, "e1"))


def test_grid_first_parameter_fastest_and_join(tmp_path: Path) -> None:
    class Grid(Flow): ...

    @Grid.register
    class S(Layer):
        def __call__(self) -> None:
            self.shard(a=[1, 2, 3], b="xy" and ["x", "y"], c=[True, False])
            self.whole = {"k": 1}

    @Grid.register(
        foreach=ForEach(
            parameters=[
                Parameter(layer=S, attribute="a"),
                Parameter(layer=S, attribute="whole"),
                Parameter(layer=S, attribute="b"),
                Parameter(layer=S, attribute="c"),
            ]
        )
    )
    class P(Layer):
        def __call__(self, s: S) -> None:
            self.combo = (self.index, s.a, s.b, s.c, s.whole)

    results = run(Grid, tmp_path)
    combos = list(results["P"].combo)
    assert len(combos) == 12
    assert combos[0] == (0, 1, "x", True, {"k": 1})
    assert combos[1] == (1, 2, "x", True, {"k": 1})
    assert combos[3] == (3, 1, "y", True, {"k": 1})
    assert combos[6] == (6, 1, "x", False, {"k": 1})
    assert combos[11] == (11, 3, "y", False, {"k": 1})


def test_parameter_layer_is_a_dependency_without_an_argument(tmp_path: Path) -> None:
    class F(Flow): ...

    @F.register
    class S(Layer):
        def __call__(self) -> None:
            self.shard(n=[5, 6])

    @F.register(foreach=ForEach(parameters=[Parameter(layer=S, attribute="n")]))
    class P(Layer):
        def __call__(self) -> None:
            self.i = self.index

    ir = F.ir()
    assert ir.spec("P").dependencies == ("S",)
    assert ir.spec("P").arguments == ()
    assert list(run(F, tmp_path)["P"].i) == [0, 1]


def test_chain_maps_one_to_one_and_grid_over_a_join(tmp_path: Path) -> None:
    class F(Flow): ...

    @F.register
    class S(Layer):
        def __call__(self) -> None:
            self.shard(n=[1, 2, 3])

    @F.register(foreach=ForEach(parameters=[Parameter(layer=S, attribute="n")]))
    class First(Layer):
        def __call__(self, s: S) -> None:
            self.sq = s.n * s.n

    @F.register(foreach=ForEach(parameters=[Parameter(layer=First, attribute="sq", index=None)]))
    class Second(Layer):
        def __call__(self, first: First) -> None:
            self.plus = first.sq + 1

    @F.register(
        foreach=ForEach(
            parameters=[
                Parameter(layer=Second, attribute="plus"),
                Parameter(layer=S, attribute="n"),
            ]
        )
    )
    class Cross(Layer):
        def __call__(self, second: Second, s: S) -> None:
            self.pair = (second.plus, s.n)

    @F.register
    class Join(Layer):
        def __call__(self, second: Second, cross: Cross) -> None:
            self.total = sum(second.plus)
            self.pairs = list(cross.pair)

    results = run(F, tmp_path)
    assert list(results["Second"].plus) == [2, 5, 10]
    assert results["Join"].total == 17
    assert results["Join"].pairs[:4] == [(2, 1), (5, 1), (10, 1), (2, 2)]
    assert len(results["Join"].pairs) == 9


def test_empty_fanout_runs_zero_tasks_and_downstream_sees_empty(tmp_path: Path) -> None:
    class F(Flow): ...

    @F.register
    class S(Layer):
        def __call__(self) -> None:
            self.shard(n=[], m=[1, 2])

    @F.register(
        foreach=ForEach(
            parameters=[Parameter(layer=S, attribute="m"), Parameter(layer=S, attribute="n")]
        )
    )
    class P(Layer):
        def __call__(self, s: S) -> None:
            self.x = s.m
            raise AssertionError("no task should run")

    @F.register(foreach=ForEach(parameters=[Parameter(layer=P, attribute="x", index=None)]))
    class Q(Layer):
        def __call__(self, p: P) -> None:
            self.other = p.x
            raise AssertionError("no task should run")

    @F.register
    class After(Layer):
        def __call__(self, p: P, q: Q) -> None:
            self.seen = (len(p.anything), list(q.other))

    results = run(F, tmp_path)
    assert results["P"].tasks() == 0  # planned, with no tasks
    assert results["After"].seen == (0, [])


def test_mapped_parameters_with_different_counts_fail_clearly(tmp_path: Path) -> None:
    class F(Flow): ...

    @F.register
    class S(Layer):
        def __call__(self) -> None:
            self.shard(a=[1, 2], b=[1, 2, 3])

    @F.register(foreach=ForEach(parameters=[Parameter(layer=S, attribute="a")]))
    class A(Layer):
        def __call__(self, s: S) -> None:
            self.v = s.a

    @F.register(foreach=ForEach(parameters=[Parameter(layer=S, attribute="b")]))
    class B(Layer):
        def __call__(self, s: S) -> None:
            self.v = s.b

    @F.register(
        foreach=ForEach(
            parameters=[
                Parameter(layer=A, attribute="v", index=None),
                Parameter(layer=B, attribute="v", index=None),
            ]
        )
    )
    class Z(Layer):
        def __call__(self, a: A, b: B) -> None:
            pass

    with pytest.raises(ExecutionError, match=r"different task counts \(A has 2, B has 3\)"):
        run(F, tmp_path)


def test_values_keep_their_types_through_the_store(tmp_path: Path) -> None:
    class Point:
        def __init__(self, x: int) -> None:
            self.x = x

    class F(Flow): ...

    @F.register
    class S(Layer):
        def __call__(self) -> None:
            self.points = [Point(1), Point(2)]
            self.big = list(range(100_000))  # above the inline size: its own file
            self.fn = lambda v: v * 3

    @F.register
    class T(Layer):
        def __call__(self, s: S) -> None:
            self.out: Any = ([p.x for p in s.points], len(s.big), s.fn(2))

    assert run(F, tmp_path)["T"].out == ([1, 2], 100_000, 6)
