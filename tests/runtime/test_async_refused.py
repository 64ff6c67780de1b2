"""Coroutine hooks and ``__call__`` are refused like generator entry hooks (issue 27): laminar
calls them without awaiting, so their code would never run (an ``async def`` entry hook
returning False never skipped)."""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from laminar import Flow, Layer
from laminar.configurations import hooks
from laminar.errors import FlowDefinitionError


def _flow(layer: type[Layer]) -> type[Flow]:
    flow = type("Async", (Flow,), {})
    flow.register(layer)
    return flow


class AsyncEntry(Layer):
    @hooks.entry
    async def ready(self) -> bool:
        return False

    def __call__(self) -> None:
        self.ran = True


class AsyncExecution(Layer):
    @hooks.execution
    async def around(self) -> None:
        pass

    def __call__(self) -> None:
        self.ran = True


class AsyncGeneratorExecution(Layer):
    @hooks.execution
    async def around(self) -> AsyncIterator[None]:
        yield

    def __call__(self) -> None:
        self.ran = True


class AsyncCall(Layer):
    async def __call__(self) -> None:
        self.ran = True


class GeneratorCall(Layer):
    def __call__(self) -> Any:
        self.ran = True
        yield


class AsyncInit(Layer):
    async def __init__(self) -> None:  # type: ignore[misc]
        self.ready = True


class GeneratorInit(Layer):
    def __init__(self) -> Any:  # type: ignore[misc]
        self.ready = True
        yield


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        (AsyncInit, r"Layer AsyncInit\.__init__ is an async def: laminar calls __init__"),
        (GeneratorInit, r"Layer GeneratorInit\.__init__ is a generator"),
        (AsyncEntry, r"Layer hook AsyncEntry\.ready is an async def: laminar calls ready without"),
        (AsyncExecution, r"Layer hook AsyncExecution\.around is an async def"),
        (AsyncGeneratorExecution, r"Layer hook AsyncGeneratorExecution\.around is an async def"),
        (AsyncCall, r"Layer AsyncCall\.__call__ is an async def.*asyncio\.run"),
        (GeneratorCall, r"Layer GeneratorCall\.__call__ is a generator \(it yields\)"),
    ],
)
def test_async_and_generator_methods_are_refused_when_the_flow_is_checked(
    layer: type[Layer], message: str
) -> None:
    with pytest.raises(FlowDefinitionError, match=message):
        _flow(layer).ir()


def _plain(function: Callable[[Layer], Any]) -> Callable[[Layer], Any]:
    """A decorator that hides a coroutine or generator function behind a plain one (without
    ``__wrapped__``), so only running it can tell."""

    def call(self: Layer) -> Any:
        return function(self)

    return call


class HiddenAsyncEntry(Layer):
    @hooks.entry
    @_plain
    async def ready(self) -> bool:
        return False

    def __call__(self) -> None:
        self.ran = True


class HiddenGeneratorHook(Layer):
    @hooks.execution
    @_plain
    def around(self) -> Any:
        yield

    def __call__(self) -> None:
        self.ran = True


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        (HiddenAsyncEntry, r"Layer HiddenAsyncEntry: entry hook ready returned coroutine"),
        (HiddenGeneratorHook, r"Layer HiddenGeneratorHook: execution hook around returned gen"),
    ],
)
def test_a_hook_that_returns_a_coroutine_is_refused_when_it_runs(
    layer: type[Layer], message: str
) -> None:
    with _no_warning(), pytest.raises(FlowDefinitionError, match=message):
        _flow(layer)(datastore="memory://async")()


class _no_warning:
    """The coroutine is closed: no "was never awaited" warning on top of the error."""

    def __enter__(self) -> None:
        self._catch = warnings.catch_warnings(record=True)
        self.caught = self._catch.__enter__()
        warnings.simplefilter("always")

    def __exit__(self, *exc: object) -> None:
        self._catch.__exit__(*exc)
        assert not [w for w in self.caught if "never awaited" in str(w.message)]


def test_an_async_flow_hook_is_refused_naming_the_flow() -> None:
    class Gated(Flow):
        @hooks.entry
        async def gate(self) -> bool:
            return False

    Gated.register(type("Plain", (Layer,), {"__call__": lambda self: None}))
    with pytest.raises(FlowDefinitionError, match=r"Flow hook Gated\.gate is an async def"):
        Gated.ir()
