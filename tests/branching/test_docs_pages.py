"""The original laminar library's hooks, branching and recovery pages, as their readers write
them (``docs/source/advanced/hooks.md``, ``layers/branching.md``, ``advanced/recovery.md``):
each example runs here unchanged and prints or stores what the page says."""

from __future__ import annotations

from collections.abc import Generator

import pytest

from laminar import Flow, Layer
from laminar.configurations import datastores, executors, hooks, layers


def test_hooks_page_execution_hook_prints_around_call(capsys: pytest.CaptureFixture[str]) -> None:
    class HookFlow(Flow): ...

    @HookFlow.register
    class A(Layer):
        def __call__(self) -> None:
            print("in call")

        @hooks.execution
        def configure_before_after(self) -> Generator[None, None, None]:
            print("before call")
            yield
            print("after call")

    HookFlow(datastore=datastores.Memory(), executor=executors.Thread())()
    assert capsys.readouterr().out.splitlines() == ["before call", "in call", "after call"]


def test_hooks_page_multiple_hooks_in_definition_order(capsys: pytest.CaptureFixture[str]) -> None:
    class HookFlow(Flow): ...

    @HookFlow.register
    class A(Layer):
        def __call__(self) -> None:
            print("in call")

        @hooks.execution
        def configure_entry_1(self) -> None:
            print("before call")

        @hooks.execution
        def configure_entry_2(self) -> Generator[None, None, None]:
            yield
            print("after call")

    HookFlow(datastore=datastores.Memory())()
    assert capsys.readouterr().out.splitlines() == ["before call", "in call", "after call"]


def test_hooks_page_flow_hooks_run_for_every_layer(capsys: pytest.CaptureFixture[str]) -> None:
    class HelloFlow(Flow):
        @hooks.execution
        def hello_world(self) -> Generator[None, None, None]:
            print(f"before {self.name}")
            yield
            print(f"after {self.name}")

    @HelloFlow.register
    class A(Layer):
        def __call__(self) -> None:
            print("in A")

    @HelloFlow.register
    class B(Layer):
        def __call__(self, a: A) -> None:
            print("in B")

    HelloFlow(datastore=datastores.Memory())()
    # The page leaves out its first two lines: the original library runs its built-in
    # Parameters layer first, flow hooks included, and prints them as laminar does.
    assert capsys.readouterr().out.splitlines() == [
        "before Parameters", "after Parameters",
        "before A", "in A", "after A", "before B", "in B", "after B",
    ]  # fmt: skip


def test_hooks_page_hook_dependencies_join_the_graph() -> None:
    class HookFlow(Flow): ...

    @HookFlow.register
    class A(Layer):
        def __call__(self) -> None:
            self.foo = "a"

    @HookFlow.register
    class B(Layer):
        @hooks.execution
        def configure(self, a: A) -> None:
            self.memory = {"a": 1000, "b": 1500}[a.foo]

        def __call__(self) -> None:
            self.seen = self.memory

    assert HookFlow.ir().spec("B").dependencies == ("A",)
    assert HookFlow(datastore=datastores.Memory())().layer(B).seen == 1000


@pytest.mark.parametrize("foo", [0.25, 0.75])
def test_branching_page_conditions_and_state(foo: float) -> None:
    class BranchFlow(Flow): ...

    @BranchFlow.register
    class A(Layer):
        def __call__(self) -> None:
            self.foo = foo  # the page draws random.random()

    @BranchFlow.register
    class B(Layer):
        def __call__(self, a: A) -> None:
            self.foo = a.foo

        @hooks.entry
        def random_foo(self, a: A) -> bool:
            return a.foo <= 0.5

    @BranchFlow.register
    class C(Layer):
        def __call__(self, a: A) -> None:
            self.foo = a.foo * 2

    @BranchFlow.register
    class D(Layer):
        def __call__(self, b: B, c: C) -> None:
            self.foo = b.foo if b.state.finished else c.foo

        @hooks.entry
        def always_true(self) -> bool:
            return True

    execution = BranchFlow(datastore=datastores.Memory())()
    assert execution.layer(B).state.finished is (foo <= 0.5)
    assert execution.layer(D).foo == (foo if foo <= 0.5 else foo * 2)


def test_branching_page_without_a_hook_the_subtree_is_skipped() -> None:
    class BranchFlow(Flow): ...

    @BranchFlow.register
    class A(Layer):
        def __call__(self) -> None:
            self.foo = 0.9

    @BranchFlow.register
    class B(Layer):
        def __call__(self, a: A) -> None:
            self.foo = a.foo

        @hooks.entry
        def random_foo(self, a: A) -> bool:
            return a.foo <= 0.5

    @BranchFlow.register
    class D(Layer):
        def __call__(self, b: B) -> None: ...

    execution = BranchFlow(datastore=datastores.Memory())()
    assert [execution.layer(x).state.finished for x in (A, B, D)] == [True, False, False]


def test_recovery_page_catch_retry_and_resume() -> None:
    attempts: list[int] = []

    class CatchFlow(Flow): ...

    @CatchFlow.register(catch=layers.Catch(TypeError, IOError))
    class A(Layer):
        def __call__(self) -> None:
            raise TypeError("expected")

    @CatchFlow.register(retry=layers.Retry(attempts=3, delay=0.01, backoff=2, jitter=0.01))
    class R(Layer):
        def __call__(self) -> None:
            attempts.append(self.attempt)
            if len(attempts) < 3:
                raise ConnectionError("flaky")
            self.done = True

    flow = CatchFlow(datastore=datastores.Memory())
    execution = flow()
    assert execution.layer(A).state.finished is False
    assert execution.layer(R).done is True and attempts == [1, 2, 3]
    flow.execution(execution.id).resume()  # everything finished: nothing runs again
    assert attempts == [1, 2, 3]
