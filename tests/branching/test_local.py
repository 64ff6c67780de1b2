"""Entry hooks, skips, state.finished, execution hooks, flow hooks and Catch, run locally.

The flows here are written the way the original laminar library's docs write them
(``docs/source/layers/branching.md``, ``advanced/hooks.md``, ``advanced/recovery.md``);
``tests/flows/branching.py`` holds the ones the engine tests share.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import laminar
from flows.branching import Branches, ConditionalFlow, Shapes, records

from laminar import Catch, Flow, ForEach, Layer, Parameter, Parameters
from laminar.configurations import datastores, executors, hooks
from laminar.errors import ConfigurationError, FlowDefinitionError, NotFinishedError


def test_the_original_conditional_flow_test_passes_as_written() -> None:
    from flows.branching import A, B, C, D, E

    flow = ConditionalFlow(datastore=datastores.Memory(), executor=executors.Thread())
    execution = flow()
    assert execution.layer(A).state.finished is True
    assert execution.layer(A).foo == "bar"
    assert execution.layer(B).state.finished is False
    assert execution.layer(C).state.finished is True
    assert execution.layer(C).foo == "baz"
    assert execution.layer(D).state.finished is False
    assert execution.layer(E).state.finished is True
    assert execution.layer(E).foo == ["baz"]


def test_branches_record_what_ran_and_why(tmp_path: Path) -> None:
    execution = Branches(datastore=str(tmp_path))()
    got = records(Branches, execution.id, str(tmp_path))
    ended = {name: record["ended"] for name, record in got.items()}  # type: ignore[index]
    assert ended == {
        "Measure": "",
        "Retrain": "",
        "Publish": "skipped: entry hook passed returned False",
        # One, two (a ForEach over a skipped layer plans no tasks) and three deep.
        "Announce": "skipped: Publish was skipped",
        "Notify": "skipped: Publish was skipped",
        "Archive": "skipped: Publish was skipped",
        "Square": "5 tasks, 2 skipped (1, 3)",
        "Halve": "5 tasks, 2 skipped (1, 3), 1 caught (2)",
        "Lookup": "caught: KeyError: 'missing'",
        "UseLookup": "skipped: Lookup failed and its error was caught",
        "Report": "",
    }
    report = execution.layer("Report")
    assert report.retrained == "retrained on drift 0.7"
    assert report.archived is False and report.lookup is False and report.used is False
    # The joins hold the tasks that finished, in task order: len and indexes count those.
    assert report.squares == [1, 9, 25]
    assert report.halves == [0.5, 12.5]
    square = execution.layer("Square").value
    assert len(square) == 3 and square[1] == 9 and square[-1] == 25 and list(square[1:]) == [9, 25]


class Drift(Flow): ...


@Drift.register
class Measure(Layer):
    def __call__(self) -> None:
        self.drift = 0.2


@Drift.register
class Retrain(Layer):
    def __call__(self, measure: Measure) -> None:
        self.model = "new"

    @hooks.entry
    def drifted(self, measure: Measure) -> bool:
        return measure.drift > 0.5


@Drift.register
class Evaluate(Layer):
    def __call__(self, retrain: Retrain) -> None:
        self.score = retrain.model


@Drift.register
class Reader(Layer):
    """Reads a skipped layer's attribute without checking: a clear error on its own line."""

    def __call__(self, retrain: Retrain) -> None:
        self.model = retrain.model

    @hooks.entry
    def anyway(self) -> bool:
        return True


def test_shapes_record_what_ran_and_why(tmp_path: Path) -> None:
    execution = Shapes(datastore=str(tmp_path))()
    got = records(Shapes, execution.id, str(tmp_path))
    ended = {name: record["ended"] for name, record in got.items()}  # type: ignore[index]
    assert ended == {
        "Gate": "skipped: entry hook closed returned False",
        "Left": "skipped: Gate was skipped",
        "Right": "skipped: Gate was skipped",
        "Meet": "",
        "Items": "",
        # A fan-out whose tasks were all skipped finished, with an empty join.
        "OddOnly": "3 tasks, 3 skipped (0, 1, 2)",
        "AfterNone": "",
        "Fragile": "3 tasks, 1 caught (1)",
        "AfterFragile": "",
        "Mend": "3 tasks, 2 skipped (0, 2)",
        "Grid": "6 tasks, 1 skipped (4)",
        "Enough": "",
        "End": "",
    }
    assert execution.layer("Meet").seen == [False, False]
    assert (execution.layer("AfterNone").count, execution.layer("AfterNone").finished) == (0, True)
    assert execution.layer("AfterFragile").values == [-1.0, 3.0]
    # In a task mapped 1:1, the upstream view's state is its own task's: only the caught
    # task's recovery ran.
    assert list(execution.layer("Mend").mended) == [1]
    assert execution.layer("Enough").cells == ["2a", "4a", "6a", "2b", "6b"]
    assert execution.layer("End").finished == [True] * 5


def test_reading_a_skipped_layer_names_it_and_the_fix() -> None:
    with pytest.raises(NotFinishedError) as raised:
        Drift(datastore="memory://drift")()
    message = str(raised.value)
    assert "Layer Reader read Retrain.model" in message
    assert "Retrain did not finish (entry hook drifted returned False)" in message
    assert "state.finished" in message
    assert any("raised by Reader" in note for note in getattr(raised.value, "__notes__", []))


def test_a_skipped_layer_has_no_attributes_to_hasattr(tmp_path: Path) -> None:
    class Probe(Flow): ...

    @Probe.register
    class Off(Layer):
        def __call__(self) -> None:
            self.value = 1

        @hooks.entry
        def never(self) -> bool:
            return False

    @Probe.register
    class Look(Layer):
        def __call__(self, off: Off) -> None:
            self.has = hasattr(off, "value")
            self.default = getattr(off, "value", "none")
            self.finished = off.state.finished

        @hooks.entry
        def always(self) -> bool:
            return True

    execution = Probe(datastore=str(tmp_path))()
    look = execution.layer(Look)
    assert (look.has, look.default, look.finished) == (False, "none", False)
    assert execution.layer(Off).state.reason == "entry hook never returned False"
    with pytest.raises(NotFinishedError, match=r"^Reading Off\.value, but Off did not finish"):
        execution.layer(Off).value  # noqa: B018


def test_entry_hooks_run_in_order_and_the_first_false_decides(tmp_path: Path) -> None:
    calls: list[str] = []

    class Order(Flow): ...

    @Order.register
    class Gate(Layer):
        @hooks.entry
        def first(self) -> bool:
            calls.append("first")
            return True

        @hooks.entry
        def second(self) -> int:
            calls.append("second")
            return 0  # falsy: skipped

        @hooks.entry
        def third(self) -> bool:
            calls.append("third")
            return True

    execution = Order(datastore=str(tmp_path))()
    assert calls == ["first", "second"]
    assert execution.layer(Gate).state.reason == "entry hook second returned 0"


def test_hook_arguments_are_dependencies() -> None:
    ir = Drift.ir()
    assert ir.spec("Retrain").dependencies == ("Measure",)
    assert [h.name for h in ir.spec("Retrain").hooks] == ["drifted"]
    assert ir.spec("Retrain").has_entry and not ir.spec("Evaluate").has_entry


def test_a_skip_is_committed_and_resume_respects_it(tmp_path: Path) -> None:
    calls: list[int] = []

    class Once(Flow): ...

    @Once.register
    class Coin(Layer):
        def __call__(self) -> None:
            self.value = 1

        @hooks.entry
        def flip(self) -> bool:
            calls.append(1)
            return len(calls) > 1  # False the first time only

    @Once.register
    class After(Layer):
        def __call__(self, coin: Coin) -> None:
            if coin.state.finished:
                raise AssertionError("Coin was skipped in this execution")

    flow = Once(datastore=str(tmp_path))
    execution = flow()
    execution.resume()  # the hook is not asked again: the decision was committed
    flow(execution=execution.id)
    assert calls == [1]
    assert execution.layer(Coin).state.finished is False
    assert execution.layer(After).state.reason == "Coin was skipped"


class Hooked(Flow):
    events: list[str] = []

    @hooks.execution
    def around_every_layer(self) -> Iterator[None]:
        Hooked.events.append(f"flow before {self.name}")
        yield
        Hooked.events.append(f"flow after {self.name}")


@Hooked.register
class First(Layer):
    def __call__(self) -> None:
        Hooked.events.append("call First")
        self.value = 1

    @hooks.execution
    def opened(self) -> Iterator[None]:
        Hooked.events.append("open")
        self.connection = "connected"  # what the generator sets is visible in __call__
        yield
        Hooked.events.append("close")

    @hooks.execution
    def plain(self) -> None:
        Hooked.events.append("plain")


@Hooked.register
class Second(Layer):
    def __call__(self, first: First) -> None:
        Hooked.events.append(f"call Second {first.connection}")


def test_execution_hooks_wrap_call_in_order_flow_hooks_first(tmp_path: Path) -> None:
    Hooked.events.clear()
    execution = Hooked(datastore=str(tmp_path))()
    assert Hooked.events == [
        # The built-in Parameters layer first, as in the original library.
        "flow before Parameters",
        "flow after Parameters",
        "flow before First",
        "open",
        "plain",
        "call First",
        "close",
        "flow after First",
        "flow before Second",
        "call Second connected",
        "flow after Second",
    ]
    Hooked.events.clear()
    execution.resume()  # a resumed execution has started already: nothing runs again
    assert Hooked.events == []


def test_an_error_of_call_is_raised_at_the_yield_of_each_execution_hook() -> None:
    events: list[str] = []

    class Guarded(Flow): ...

    @Guarded.register
    class Fails(Layer):
        def __call__(self) -> None:
            raise KeyError("lost")

        @hooks.execution
        def outer(self) -> Iterator[None]:
            try:
                yield
            finally:
                events.append("outer cleaned up")

        @hooks.execution
        def inner(self) -> Iterator[None]:
            try:
                yield
            except KeyError as error:
                events.append(f"inner saw {error}")
                raise

    with pytest.raises(KeyError, match="lost"):
        Guarded(datastore="memory://guarded")()
    assert events == ["inner saw 'lost'", "outer cleaned up"]


def test_an_execution_hook_that_handles_the_error_lets_the_layer_finish() -> None:
    class Forgiving(Flow): ...

    @Forgiving.register
    class Flaky(Layer):
        def __call__(self) -> None:
            self.partial = "set before the error"
            raise ConnectionError("dropped")

        @hooks.execution
        def forgive(self) -> Iterator[None]:
            try:
                yield
            except ConnectionError:
                self.forgiven = True

    execution = Forgiving(datastore="memory://forgiving")()
    assert (execution.layer(Flaky).partial, execution.layer(Flaky).forgiven) == (
        "set before the error",
        True,
    )


@pytest.mark.parametrize(
    ("body", "what"),
    [
        ("yield\n        yield", "yielded a second time"),
        ("return\n        yield", "returned before its yield"),
    ],
)
def test_an_execution_hook_that_does_not_yield_once_is_named(
    body: str, what: str, write_flow: Callable[[str, str], Path], tmp_path: Path
) -> None:
    flow = write_flow(
        "from laminar import Flow, Layer\n"
        "from laminar.configurations import hooks\n"
        "class F(Flow): ...\n"
        "@F.register\n"
        "class A(Layer):\n"
        "    @hooks.execution\n"
        "    def around(self):\n"
        f"        {body}\n",
        "misused.py",
    )
    result = laminar("run", str(flow), cwd=tmp_path, check=False)
    assert result.returncode == 1
    assert f"Layer A: execution hook around ({flow}:6) {what}" in result.stderr
    assert "yields exactly once" in result.stderr
    assert "contextlib" not in result.stderr


class Fans(Flow): ...


@Fans.register
class Items(Layer):
    def __call__(self) -> None:
        self.shard(n=range(6))


@Fans.register(foreach=ForEach(parameters=[Parameter(layer=Items, attribute="n")]))
class Even(Layer):
    seen: list[int] = []

    def __call__(self, items: Items) -> None:
        self.n = items.n
        self.where = (self.index, self.splits)

    @hooks.entry
    def even(self, items: Items) -> bool:
        Even.seen.append(self.index)
        return items.n % 2 == 0

    @hooks.execution
    def per_task(self) -> Iterator[None]:
        yield
        self.after = "hooked"


@Fans.register(foreach=ForEach(parameters=[Parameter(layer=Even, attribute="n")]))
class Again(Layer):
    """Fans out over the join of Even: its three finished tasks."""

    def __call__(self, even: Even) -> None:
        self.n = even.n * 10


@Fans.register(foreach=ForEach(parameters=[Parameter(layer=Even, attribute="n", index=None)]))
class Mapped(Layer):
    """Mapped 1:1: a task after a skipped task is skipped; with a hook it decides."""

    def __call__(self, even: Even) -> None:
        self.n = even.n


@Fans.register
class Join(Layer):
    def __call__(self, even: Even, again: Again, mapped: Mapped) -> None:
        self.n = list(even.n)
        self.where = list(even.where)
        self.after = list(even.after)
        self.again = list(again.n)
        self.mapped = list(mapped.n)
        self.lengths = (len(even.n), len(again.n), len(mapped.n))


def test_entry_hooks_in_a_fan_out_skip_tasks_and_joins_hold_the_rest(tmp_path: Path) -> None:
    Even.seen.clear()
    execution = Fans(datastore=str(tmp_path))()
    join = execution.layer(Join)
    assert sorted(Even.seen) == [0, 1, 2, 3, 4, 5]  # once per task
    assert join.n == [0, 2, 4]
    assert join.where == [(0, 6), (2, 6), (4, 6)]  # tasks keep their own index
    assert join.after == ["hooked"] * 3
    assert join.again == [0, 20, 40]
    assert join.mapped == [0, 2, 4]
    assert join.lengths == (3, 3, 3)
    assert execution.layer(Again).tasks() == 3


def test_catch_records_a_failure_as_not_finished(tmp_path: Path) -> None:
    class Risky(Flow): ...

    @Risky.register(catch=Catch(TypeError, IOError))
    class Load(Layer):
        def __call__(self) -> None:
            self.partial = "half"
            raise OSError("disk gone")

    @Risky.register
    class Use(Layer):
        def __call__(self, load: Load) -> None:
            self.value = load.partial

    @Risky.register
    class Fallback(Layer):
        def __call__(self, load: Load) -> None:
            self.value = load.partial if load.state.finished else "default"

        @hooks.entry
        def always(self) -> bool:
            return True

    execution = Risky(datastore=str(tmp_path))()
    assert execution.layer(Load).state.finished is False
    assert execution.layer(Load).state.reason == "OSError: disk gone"
    assert execution.layer(Use).state.reason == "Load failed and its error was caught"
    assert execution.layer(Fallback).value == "default"
    with pytest.raises(NotFinishedError):
        _ = execution.layer(Load).partial  # what it set before raising was not stored


def test_an_error_catch_does_not_list_still_fails() -> None:
    class Strict(Flow): ...

    @Strict.register(catch=Catch(KeyError))
    class Boom(Layer):
        def __call__(self) -> None:
            raise ValueError("not a key error")

    with pytest.raises(ValueError, match="not a key error"):
        Strict(datastore="memory://strict")()


def test_an_entry_hook_that_raises_fails_the_task_with_the_users_error() -> None:
    class Broken(Flow): ...

    @Broken.register
    class Layer1(Layer):
        @hooks.entry
        def check(self) -> bool:
            raise RuntimeError("cannot decide")

    with pytest.raises(RuntimeError, match="cannot decide"):
        Broken(datastore="memory://broken")()


def test_catch_takes_exception_classes() -> None:
    with pytest.raises(ConfigurationError, match="Catch takes exception classes"):
        Catch("TypeError")  # type: ignore[arg-type]


def test_an_entry_hook_cannot_yield() -> None:
    class Gen(Flow): ...

    @Gen.register
    class Maybe(Layer):
        @hooks.entry
        def ready(self) -> Iterator[bool]:
            yield True

    with pytest.raises(FlowDefinitionError, match=r"Entry hook Maybe\.ready is a generator"):
        Gen.ir()


def test_a_flow_hook_cannot_take_layers() -> None:
    class Wide(Flow):
        @hooks.execution
        def each(self, first: Start) -> None: ...

    @Wide.register
    class Start(Layer): ...

    with pytest.raises(FlowDefinitionError, match=r"Flow hook Wide\.each takes layers"):
        Wide.ir()


def test_current_names_the_running_task(tmp_path: Path) -> None:
    from laminar.settings import current

    class Where(Flow): ...

    @Where.register
    class Make(Layer):
        def __call__(self) -> None:
            self.shard(n=[1, 2])

    @Where.register(foreach=ForEach(parameters=[Parameter(layer=Make, attribute="n")]))
    class Each(Layer):
        def __call__(self, make: Make) -> None:
            self.seen = (
                current.execution.id,
                current.flow.name,
                current.layer.name,
                current.layer.index,
                current.layer.splits,
                current.layer.attempt,
            )

        @hooks.entry
        def ready(self) -> bool:
            return current.layer.name == "Each"

    execution = Where(datastore=str(tmp_path))(execution="x1")
    assert list(execution.layer(Each).seen) == [
        ("x1", "Where", "Each", 0, 2, 1),
        ("x1", "Where", "Each", 1, 2, 1),
    ]
    assert current.layer.name is None  # outside a task


def test_fan_out_hooks_decide_the_same_with_worker_processes(tmp_path: Path) -> None:
    Even.seen.clear()
    execution = Fans(datastore=str(tmp_path))(workers=2)
    join = execution.layer(Join)
    assert join.n == [0, 2, 4] and join.mapped == [0, 2, 4] and join.lengths == (3, 3, 3)


class Chosen(Flow):
    mode: str = "fast"


@Chosen.register
class Full(Layer):
    def __call__(self) -> None:
        self.ran = True

    @hooks.entry
    def wanted(self, parameters: Parameters) -> bool:
        return parameters.mode == "full"


@pytest.mark.parametrize(("mode", "ran"), [("fast", False), ("full", True)])
def test_an_entry_hook_reads_the_flows_inputs(mode: str, ran: bool, tmp_path: Path) -> None:
    execution = Chosen(datastore=str(tmp_path))(mode=mode)
    assert execution.layer(Full).state.finished is ran
