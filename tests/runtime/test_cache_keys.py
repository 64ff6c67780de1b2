"""Cache keys computed a window of tasks at a time (issue 23: the key's overhead): the keys of
a window are the keys computed one task at a time (what ``laminar cache FLOW why`` shows),
for every way a task fans out, and a change of one element still re-runs one task when the
elements lie in several chunks and windows."""

from __future__ import annotations

from pathlib import Path

import pytest

from laminar import Catch, Flow, ForEach, Layer, Parameter, Parameters
from laminar.runtime import caching
from laminar.runtime.executor import execute
from laminar.runtime.fanout import fanned_positions, positions
from laminar.runtime.task import Runtime
from laminar.store import chunks
from laminar.store.datastore import Datastore
from laminar.store.execution import Execution


class Shapes(Flow):
    scale: int = 2


@Shapes.register
class Start(Layer):
    def __call__(self) -> None:
        self.shard(items=[f"item-{i}" for i in range(10)])  # several chunks (see below)
        self.note = "the same for every task"


@Shapes.register
class Palette(Layer):
    def __call__(self) -> None:
        self.shard(colours=["red", "green", "blue"])


@Shapes.register(
    cache=True,
    foreach=ForEach(
        parameters=[
            Parameter(layer=Start, attribute="items"),
            Parameter(layer=Palette, attribute="colours"),
        ]
    ),
)
class Grid(Layer):
    def __call__(self, start: Start, palette: Palette, parameters: Parameters) -> None:
        self.label = f"{start.items}-{palette.colours}-{parameters.scale}"


@Shapes.register(
    cache=True, foreach=ForEach(parameters=[Parameter(layer=Grid, attribute="label", index=None)])
)
class Mapped(Layer):
    def __call__(self, grid: Grid) -> None:
        self.size = len(grid.label)


@Shapes.register
class Labels(Layer):
    """Keeps Grid's join as a value of its own: its elements are pickled again for a key."""

    def __call__(self, grid: Grid) -> None:
        self.labels = grid.label


@Shapes.register(
    cache=True, foreach=ForEach(parameters=[Parameter(layer=Labels, attribute="labels")])
)
class OverLabels(Layer):
    def __call__(self, labels: Labels) -> None:
        self.first = labels.labels[:1]


@Shapes.register
class Some(Layer):
    def __call__(self, start: Start) -> None:
        self.shard(numbers=list(range(7)))


@Shapes.register(
    catch=Catch(ValueError),
    foreach=ForEach(parameters=[Parameter(layer=Some, attribute="numbers")]),
)
class Odd(Layer):
    """A ForEach upstream with holes: its caught tasks leave a sparse join of 3."""

    def __call__(self, some: Some) -> None:
        if some.numbers % 2 == 0:
            raise ValueError("even")
        self.value = some.numbers * 10


@Shapes.register(cache=True, foreach=ForEach(parameters=[Parameter(layer=Odd, attribute="value")]))
class OverJoin(Layer):
    def __call__(self, odd: Odd) -> None:
        self.double = odd.value * 2


def test_a_window_of_keys_equals_the_keys_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chunks, "CHUNK_ELEMENTS", 4)  # Start.items over three chunks
    store = Datastore(str(tmp_path / "store"))
    execute(Shapes.ir(), store, "e")
    runtime = Runtime(Shapes.ir(), Execution(store, "Shapes", "e"))
    runtime.start(None)
    for layer, count in (("Grid", 30), ("Mapped", 30), ("OverLabels", 30), ("OverJoin", 3)):
        spec = runtime.ir.spec(layer)
        plan = runtime.execution.commits.read_plan(layer)
        assert plan is not None and plan.count == count
        one_by_one = [runtime.cache.keys.key(spec, i, plan)[0] for i in range(count)]
        assert len(set(one_by_one)) == count  # every task its own key
        fresh = Runtime(Shapes.ir(), Execution(store, "Shapes", "e"))
        fresh.start(None)
        assert fresh.cache.keys.keys(spec, range(count), plan) == one_by_one
        tail = range(count - 2, count)  # a window starting anywhere
        assert fresh.cache.keys.keys(spec, tail, plan) == one_by_one[-2:]
        # Each task's elements, found for the window at once, are those the task reads.
        together = fanned_positions(plan, range(count))
        for index in range(count):
            alone = positions(plan, index)
            assert {k: (found[index], m) for k, (found, m) in together.items()} == alone


COUNTED = """
import os
from pathlib import Path
from laminar import Flow, ForEach, Layer, Parameter


class Counted(Flow): ...


@Counted.register
class Items(Layer):
    def __call__(self) -> None:
        self.shard(item=os.environ["ITEMS"].split(","))


@Counted.register(
    cache=True, foreach=ForEach(parameters=[Parameter(layer=Items, attribute="item")])
)
class Each(Layer):
    def __call__(self, items: Items) -> None:
        with open(Path(os.environ["COUNTS"]) / items.item, "a") as f:
            f.write("ran\\n")
        self.out = items.item.upper()
"""


def test_one_changed_element_among_chunks_and_windows_reruns_one_task(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chunks, "CHUNK_ELEMENTS", 4)  # 10 elements: 3 chunks
    monkeypatch.setattr(caching, "WINDOW", 3)  # 10 tasks: 4 windows, across chunk ends
    (tmp_path / "flow.py").write_text(COUNTED)
    counts = tmp_path / "counts"
    counts.mkdir()
    monkeypatch.setenv("COUNTS", str(counts))
    monkeypatch.syspath_prepend(str(tmp_path))
    from laminar.model.loader import load_flow

    ir = load_flow(str(tmp_path / "flow.py")).ir()
    store = Datastore(str(tmp_path / "store"))
    items = [f"x{i}" for i in range(10)]
    monkeypatch.setenv("ITEMS", ",".join(items))
    execute(ir, store, "one")
    assert sorted(p.name for p in counts.iterdir()) == sorted(items)
    for path in counts.iterdir():
        path.unlink()
    items[6] = "changed"  # the second chunk, the third window
    monkeypatch.setenv("ITEMS", ",".join(items))
    two = execute(ir, store, "two")
    assert [p.name for p in counts.iterdir()] == ["changed"]
    outs = two.attribute("Each", "out", reader="", foreach=True)
    assert list(outs) == [item.upper() for item in items]
