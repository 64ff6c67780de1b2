"""Calling a layer's hooks: entry hooks decide whether it runs, execution hooks wrap
``__call__``. Every hook is called with the running layer as ``self`` (a flow's hooks too, so
``self.name`` names the layer) and the upstream views it asks for."""

from __future__ import annotations

import contextlib
from collections.abc import Generator
from types import TracebackType
from typing import TYPE_CHECKING, Any

from laminar.ir import LayerSpec
from laminar.ir.hooks import HookSpec
from laminar.model.layer import Layer
from laminar.runtime.context import user_code
from laminar.runtime.views import arguments_of, task_views
from laminar.settings import running
from laminar.store.execution import PlanRecord

if TYPE_CHECKING:
    from laminar.runtime.task import Runtime


def entry_decision(
    runtime: Runtime, spec: LayerSpec, index: int | None, plan: PlanRecord | None
) -> str:
    """Run the entry hooks of task ``index``; "" when it runs, else why it is skipped. A hook
    that raises fails the task with the user's traceback."""
    if not spec.has_entry:
        return ""
    views = task_views(runtime, spec, index, plan)
    layer = runtime.instance(spec, index, plan, "", 1)
    with user_code(spec.name, index), running(runtime.task_info(spec, index, plan, 1)):
        return entry_verdict(spec, layer, views)


def entry_verdict(spec: LayerSpec, layer: Layer, views: dict[str, Layer]) -> str:
    """Run ``spec``'s entry hooks in order; "" when all are truthy, else why it is skipped.

    The first falsy hook decides: the hooks after it do not run.
    """
    for hook in spec.hooks_of("entry"):
        verdict = hook.function(layer, **arguments_of(views, hook.arguments))
        if not verdict:
            shown = repr(verdict)
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            return f"entry hook {hook.name} returned {shown}"
    return ""


def around_call(
    spec: LayerSpec, layer: Layer, views: dict[str, Layer], kwargs: dict[str, Any]
) -> BaseException | None:
    """Call ``layer(**kwargs)`` inside its execution hooks; returns the exception ``Catch``
    caught (the hooks then finish as if ``__call__`` had returned), else ``None``."""
    caught: BaseException | None = None
    with contextlib.ExitStack() as stack:
        for hook in spec.hooks_of("execution"):
            arguments = arguments_of(views, hook.arguments)
            if hook.generator:
                stack.enter_context(AroundCall(spec.name, hook, hook.function(layer, **arguments)))
            else:
                hook.function(layer, **arguments)
        try:
            layer(**kwargs)
        except Exception as error:
            if spec.settings.catch is None or not spec.settings.catch.catches(error):
                raise
            caught = error
    return caught


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
