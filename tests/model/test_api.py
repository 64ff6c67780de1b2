"""The Python API the original laminar library's users know: layer conveniences, unit-testing
a layer, composing flows by inheritance, failures raising the user's own exception."""

from __future__ import annotations

from pathlib import Path

import pytest

from laminar import Container, Flow, ForEach, Layer, Parameter, Parameters, Retry
from laminar.errors import ConfigurationError
from laminar.types import unwrap


def test_layer_conveniences_while_running(tmp_path: Path) -> None:
    class Conveniences(Flow): ...

    @Conveniences.register(retry=Retry(attempts=2, delay=0), container=Container(cpu="1"))
    class Source(Layer):
        def __call__(self) -> None:
            if self.attempt == 1:
                raise RuntimeError("first attempt fails")
            self.seen = (self.name, self.index, self.splits, self.attempt)
            self.cpu = self.configuration.container.cpu
            self.shard(items=[10, 20, 30])

    @Conveniences.register(foreach=ForEach(parameters=[Parameter(layer=Source, attribute="items")]))
    class Each(Layer):
        def __call__(self, source: Source) -> None:
            self.seen = (self.name, self.index, self.splits, source.items)

    execution = Conveniences()(datastore=str(tmp_path))
    results = Conveniences.results(execution, str(tmp_path))
    assert results["Source"].seen == ("Source", 0, 1, 2)
    assert results["Source"].cpu == "1"
    assert list(results["Each"].seen) == [("Each", i, 3, 10 * (i + 1)) for i in range(3)]


def test_a_layer_may_store_attributes_named_like_conveniences(tmp_path: Path) -> None:
    class Named(Flow): ...

    @Named.register
    class Source(Layer):
        def __call__(self) -> None:
            self.name = "custom"
            self.index = 42

    @Named.register
    class After(Layer):
        def __call__(self, source: Source) -> None:
            self.got = (source.name, source.index)

    execution = Named()(datastore=str(tmp_path))
    assert Named.results(execution, str(tmp_path))["After"].got == ("custom", 42)


def test_a_layer_is_unit_testable_with_layer_attributes() -> None:
    class Shard(Layer):
        pass

    class Process(Layer):
        def __call__(self, shard: Shard) -> None:
            self.total = sum(shard.foo)

    process = Process()
    process(shard=Shard(foo=[1, 2, 3]))
    assert process.total == 6


def test_a_layer_without_call_is_a_no_op(tmp_path: Path) -> None:
    class Grouping(Flow): ...

    @Grouping.register
    class Marker(Layer):
        pass

    @Grouping.register
    class After(Layer):
        def __call__(self, marker: Marker) -> None:
            self.ran = True

    execution = Grouping()(datastore=str(tmp_path))
    assert Grouping.results(execution, str(tmp_path))["After"].ran is True


def test_flows_compose_by_inheritance(tmp_path: Path) -> None:
    class First(Flow): ...

    class Second(Flow): ...

    @First.register
    class A(Layer):
        def __call__(self) -> None:
            self.value = 1

    @Second.register
    class B(Layer):
        def __call__(self, a: A) -> None:
            self.value = a.value + 1

    class Combined(First, Second): ...

    assert Combined.ir().order == ("A", "B")
    # The original library's registry: every layer by name, the inputs' layer included.
    assert sorted(Combined.registry) == ["A", "B", "Parameters"]
    assert Combined.registry["A"].layer is A and Combined().registry["B"].layer is B
    assert Combined.registry["Parameters"].layer is Parameters
    execution = Combined()(datastore=str(tmp_path))
    assert Combined.results(execution, str(tmp_path))["B"].value == 2
    assert First.ir().order == ("A",)


def test_a_failing_layer_raises_the_users_own_exception(tmp_path: Path) -> None:
    class Failing(Flow): ...

    class Boom(ValueError):
        pass

    @Failing.register
    class Explode(Layer):
        def __call__(self) -> None:
            raise Boom("no good")

    with pytest.raises(Boom, match="no good") as info:
        Failing()(datastore=str(tmp_path), execution="e1")
    notes = getattr(info.value, "__notes__", [])
    assert any("raised by Explode in execution e1" in note for note in notes) or not hasattr(
        info.value, "add_note"
    )


def test_executions_are_objects(tmp_path: Path) -> None:
    class Handles(Flow):
        sample: int = 2

    @Handles.register
    class A(Layer):
        def __call__(self, parameters: Parameters) -> None:
            self.foo = "bar" * parameters.sample

    flow = Handles(datastore=str(tmp_path))
    execution = flow(sample=1)
    assert execution.layer(A).foo == "bar"
    assert execution.layer("A").foo == "bar"
    assert execution.layer(Parameters).sample == 1
    reopened = flow.execution(execution.id)
    assert reopened == execution and str(reopened) == execution.id
    assert reopened.layer(A).foo == "bar"
    assert Handles.results(execution, str(tmp_path))["A"].foo == "bar"  # where an id went
    assert execution.resume().layer(A).foo == "bar"  # committed: nothing runs again
    assert repr(execution) == f"Execution(flow=Handles, id={execution.id!r})"


def test_layers_are_tested_as_the_original_library_teaches() -> None:
    class A(Layer):
        def __call__(self) -> None:
            self.foo = "bar"

    class B(Layer):
        def __call__(self, a: A) -> None:
            self.foo = a.foo

    assert A()().foo == "bar"
    assert B()(A(foo="baz")).foo == "baz"


def test_flows_chain_with_next(tmp_path: Path) -> None:
    class Flow1(Flow): ...

    class Flow2(Flow): ...

    @Flow1.register()
    class A(Layer):
        def __call__(self) -> None:
            self.foo = "bar"

    @Flow2.register()
    class B(Layer):
        def __call__(self, parameters: Parameters) -> None:
            self.foo = parameters.foo

    class Flow3(Flow): ...

    @Flow3.register()
    class C(Layer):
        def __call__(self, parameters: Parameters) -> None:
            self.foo = parameters.foo * 2

    store = str(tmp_path)
    flow2, flow3 = Flow2(datastore=store), Flow3(datastore=str(tmp_path / "other"))
    first = Flow1(datastore=store)()
    second = first.next(flow=flow2, linker=lambda e: Parameters(foo=e.layer(A).foo))
    third = second.next(flow=flow3, linker=lambda e: Parameters(foo=e.layer(B).foo))
    assert second.layer(B).foo == "bar"
    assert unwrap(second) is second
    # One id across the chain, each flow's part in its own datastore: the original's way.
    assert first.id == second.id == third.id
    assert flow2.execution(third.id).layer(B).foo == "bar"
    assert flow3.execution(third.id).layer(C).foo == "barbar"


def test_the_original_schedulers_are_accepted_and_say_what_they_become(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from laminar.configurations import datastores, executors, schedulers

    class ScheduledFlow(Flow): ...

    @ScheduledFlow.register
    class A(Layer):
        def __call__(self) -> None:
            self.ran = True

    told = {}
    for scheduler in (
        schedulers.Scheduler(),
        schedulers.Delegated(),
        schedulers.AWS.StepFunctions(),
    ):
        flow = ScheduledFlow(
            datastore=datastores.Memory(), executor=executors.Thread(), scheduler=scheduler
        )
        assert flow().layer(A).ran is True
        told[type(scheduler).__name__] = capsys.readouterr().err
    assert "schedulers." not in told["Scheduler"]  # the active scheduler is what runs
    assert "here that is `laminar compile FLOW --target" in told["Delegated"]
    assert "StepFunctions() is not a laminar target" in told["StepFunctions"]
    with pytest.raises(ConfigurationError, match=r"pass a scheduler from"):
        ScheduledFlow(scheduler="active")  # type: ignore[arg-type]
