"""Calling a layer's hooks: entry hooks decide whether it runs, execution hooks wrap
``__call__``. Every hook is called with the running layer as ``self`` (a flow's hooks too, so
``self.name`` names the layer) and the upstream views it asks for."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Generator, Iterable, Iterator
from types import TracebackType
from typing import Any

from laminar.errors import FlowDefinitionError
from laminar.ir import FlowIR, LayerSpec
from laminar.ir.hooks import HookSpec
from laminar.model.layer import Layer
from laminar.model.parameters import PARAMETERS, Parameters
from laminar.runtime.decisions import RUNS, Skip, Verdict
from laminar.runtime.views import arguments_of


def entry_verdict(spec: LayerSpec, layer: Layer, views: dict[str, Layer]) -> Verdict:
    """Run ``spec``'s entry hooks in order on ``layer`` (a new instance, running as the task
    to decide); ``RUNS`` when all are truthy, else a ``Skip`` saying which hook returned what.

    The first falsy hook decides: the hooks after it do not run.
    """
    for hook in spec.hooks_of("entry"):
        verdict = hook.function(layer, **arguments_of(views, hook.arguments))
        refuse_awaitable(spec.name, f"entry hook {hook.name}", verdict)
        kept = sorted(name for name in vars(layer) if not name.startswith("_"))
        if kept:
            raise FlowDefinitionError(
                f"Layer {spec.name}: entry hook {hook.name} set self.{kept[0]}, which __call__ "
                "would not see: an entry hook only decides whether the layer runs (it may run "
                "in another process, before the layer's own instance exists). Set it in "
                "__call__ or in an execution hook."
            )
        if not verdict:
            shown = repr(verdict)
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            return Skip(f"entry hook {hook.name} returned {shown}")
    return RUNS


def refuse_awaitable(layer: str, what: str, value: object, generators: bool = True) -> None:
    """A coroutine (or other awaitable) returned where a value was due is an error: nothing
    awaits it, so its code would never run (and it is always truthy). So is a generator from
    a hook (a decorated generator function: its code would never run either)."""
    generator = generators and inspect.isgenerator(value)
    if inspect.isawaitable(value) or inspect.isasyncgen(value) or generator:
        close = getattr(value, "close", None)
        if callable(close):
            close()  # no "never awaited" warning on top of the error
        raise FlowDefinitionError(
            f"Layer {layer}: {what} returned {type(value).__name__} {value!r:.60}: laminar "
            "calls hooks and __call__ without awaiting or iterating them, so their code would "
            "not run. Make it a plain def (run async code inside with asyncio.run(...))."
        )


def around_call(
    spec: LayerSpec, layer: Layer, views: dict[str, Layer], kwargs: dict[str, Any]
) -> BaseException | None:
    """Call ``layer(**kwargs)`` inside its execution hooks; returns the exception ``Catch``
    caught (the hooks then finish as if ``__call__`` had returned), else ``None``."""
    caught: BaseException | None = None
    with contextlib.ExitStack() as stack:
        enter_execution_hooks(stack, spec.name, spec.hooks_of("execution"), layer, views)
        call: Any = layer  # typed as returning None; an ``async def __call__`` returns more
        try:
            refuse_awaitable(spec.name, "__call__", call(**kwargs), generators=False)
        except Exception as error:
            if spec.settings.catch is None or not spec.settings.catch.catches(error):
                raise
            caught = error
    return caught


def enter_execution_hooks(
    stack: contextlib.ExitStack,
    name: str,
    hooks: Iterable[HookSpec],
    layer: Layer,
    views: dict[str, Layer],
) -> None:
    """Call each execution hook on ``layer`` in order: a plain one now, a generator up to its
    ``yield`` (the rest runs when ``stack`` closes, in reverse order)."""
    for hook in hooks:
        arguments = arguments_of(views, hook.arguments)
        if hook.generator:
            stack.enter_context(AroundCall(name, hook, hook.function(layer, **arguments)))
        else:
            returned = hook.function(layer, **arguments)
            refuse_awaitable(name, f"execution hook {hook.name}", returned)


@contextlib.contextmanager
def around_inputs(ir: FlowIR, given: dict[str, Any] | None) -> Iterator[None]:
    """The flow's execution hooks around the start of a new execution, with the built-in
    ``Parameters`` layer as ``self``: the original library ran that layer like any other, so
    a flow hook printing ``self.name`` printed "Parameters" first. (Flow hooks take no
    arguments, so none needs an upstream view.)"""
    first = ir.spec(ir.order[0])  # every layer carries the flow's hooks, before its own
    hooks = [hook for hook in first.hooks_of("execution") if hook.on_flow]
    with contextlib.ExitStack() as stack:
        enter_execution_hooks(stack, PARAMETERS, hooks, Parameters(**(given or {})), {})
        yield


class AroundCall:
    """A generator execution hook as a context manager: up to its one ``yield`` before
    ``__call__``, the rest after (an error of ``__call__`` is raised at the ``yield``, so
    ``try``/``finally`` and ``with`` work there). Like ``contextlib.contextmanager``, but a
    hook that yields twice, or returns before its ``yield``, gets a message naming it."""

    def __init__(self, layer: str, hook: HookSpec, generator: Generator[None, None, None]) -> None:
        self.layer = layer
        self.hook = hook
        self.generator = generator

    def __enter__(self) -> None:
        try:
            next(self.generator)
        except StopIteration:
            raise self.misused("returned before its yield") from None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        if error is None:
            try:
                next(self.generator)
            except StopIteration:
                return False
            raise self.misused("yielded a second time")
        try:
            self.generator.throw(error)
        except StopIteration:
            return True  # the hook handled the error
        except BaseException as raised:
            if raised is error or raised.__cause__ is error:  # (a StopIteration, PEP 479)
                return False  # the error goes on, with its own traceback
            raise
        raise self.misused("yielded again after __call__ raised")

    def misused(self, what: str) -> RuntimeError:
        code = getattr(self.hook.function, "__code__", None)
        where = f" ({code.co_filename}:{code.co_firstlineno})" if code is not None else ""
        return RuntimeError(
            f"Layer {self.layer}: execution hook {self.hook.name}{where} {what}. An execution "
            "hook yields exactly once: the code before the yield runs before __call__, the "
            "code after it runs after."
        )
