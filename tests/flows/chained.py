"""Chained flows (``Execution.next``): Flow1's result is Flow2's input.

Run as a script, the file chains Flow1 to Flow2 (the original library's way, at the end).
``Hooked`` chains from its exit hook and ``Inline`` from a task: both run locally, and in a
deployed task (``laminar exit``, ``laminar task``) they are refused. ``Linked`` is what to
deploy instead: it takes Flow1's execution id as an input and reads Flow1's results itself.
"""

from __future__ import annotations

from laminar import Flow, Layer, Parameters
from laminar.configurations import hooks
from laminar.runtime.handle import Execution
from laminar.settings import current


def link(execution: Execution) -> Parameters:
    return Parameters(foo=execution.layer(A).foo)


class Flow1(Flow):
    """Its result feeds Flow2."""


class Flow2(Flow):
    foo: str = ""


class Hooked(Flow):
    """Chains Flow2 once its run ended, from its exit hook."""

    @hooks.exit
    def chain(self, execution: Execution) -> None:
        execution.next(flow=Flow2(datastore=execution.datastore), linker=link)


class Inline(Flow):
    """Chains Flow1's execution of the same id to Flow2 from a task."""


class Linked(Flow):
    """Flow2 as deployed: only Flow1's execution id travels, the linker runs in its task."""

    first: str = ""


@Flow1.register
@Hooked.register
class A(Layer):
    def __call__(self) -> None:
        self.foo = "bar"


@Flow2.register
class B(Layer):
    def __call__(self, parameters: Parameters) -> None:
        self.foo = parameters.foo


@Inline.register
class Chain(Layer):
    def __call__(self) -> None:
        Flow1().execution(str(current.execution.id)).next(flow=Flow2(), linker=link)


@Linked.register
class Read(Layer):
    def __call__(self, parameters: Parameters) -> None:
        self.foo = link(Flow1().execution(parameters.first)).foo


if flow := Flow1():
    flow().next(flow=Flow2(), linker=link)
