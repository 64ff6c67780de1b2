"""``Execution``: what ``flow(...)`` returns, and ``flow.execution(id)`` reopens.

A handle on one execution of a flow in one datastore: its id, its layers' results
(``execution.layer(A).foo``), and ``resume()`` to run it again from its committed results.
Wherever an execution id is accepted, an ``Execution`` is too (``str(execution)`` is its id).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from laminar.errors import LaminarError
from laminar.model.parameters import PARAMETERS, Parameters
from laminar.runtime.inputs import parameters_view
from laminar.runtime.results import ExecutionResults, LayerResults, open_results
from laminar.settings import current, in_deployed_task
from laminar.store.inputs import read_inputs
from laminar.text import printable

if TYPE_CHECKING:
    from laminar.model.flow import Flow
    from laminar.model.layer import Layer


def chain_refused(first: str, following: str) -> str:
    """Why ``Execution.next`` refuses in a deployed task, and what to do instead (one line)."""
    task = printable(current.flow.name or first)
    where = f", layer {printable(current.layer.name)}" if current.layer.name else ""
    first, following = printable(first), printable(following)
    return (
        f"Execution.next in a deployed task of flow {task}{where}: a chain of flows ({first} "
        f"then {following}) runs locally only ({following} would run whole inside this one "
        f"task, unseen by the orchestrator). Compose the flows into one flow and compile it "
        f"(class Both({first}, {following}), a layer of {following} taking {first}'s layer as "
        f"an argument), or compile {following} too and start it from {first}'s workflow with "
        f"the orchestrator, passing {first}'s execution id as an input to read its results by "
        "(docs/coming-from-laminar.md#chained-flows), or run the chain locally."
    )


class Execution:
    """One execution of ``flow`` in ``datastore`` (``None``: the default datastore)."""

    def __init__(self, flow: type[Flow], id: str, datastore: str | None = None) -> None:
        self.flow = flow
        self.id = id
        self.datastore = datastore
        self._results: ExecutionResults | None = None

    @property
    def results(self) -> ExecutionResults:
        """Every layer's results (``execution.results["A"].foo``), read lazily."""
        if self._results is None:
            self._results = open_results(self.flow, self.id, self.datastore)
        return self._results

    def layer(self, layer: type[Layer] | str) -> LayerResults | Parameters:
        """The results of ``layer`` (its class or its name): ``execution.layer(A).foo``;
        ``execution.layer(Parameters).foo`` is an input of the execution."""
        name = layer if isinstance(layer, str) else layer.__name__
        if name == PARAMETERS:
            committed = read_inputs(self.results.execution.objects) or {}
            return parameters_view(committed, "", self.results.ir.inputs)
        return self.results[name]

    def resume(self, *, workers: int | None = None) -> Execution:
        """Run the flow again as this execution: committed tasks are skipped, the rest run
        with the inputs the execution started with."""
        self._results = None
        resumed: Execution = self.flow(datastore=self.datastore)(execution=self.id, workers=workers)
        return resumed

    def next(self, flow: Flow, linker: Callable[[Execution], Layer]) -> Execution:
        """Run ``flow`` with inputs taken from this execution (composition by chaining):
        ``execution.next(flow=Flow2(), linker=lambda e: Parameters(foo=e.layer(A).foo))``.

        The next flow's execution takes this one's id, as in the original library, so one id
        finds every flow's part of a chain: ``flow2.execution(last.id).layer(B)``.

        A chain runs locally: in a deployed task (``laminar task``/``exit`` under an
        orchestrator) it is refused, naming the alternatives (``chain_refused``)."""
        if in_deployed_task():
            raise LaminarError(chain_refused(self.flow.__name__, type(flow).__name__))
        linked = linker(self)
        inputs = {k: v for k, v in vars(linked).items() if not k.startswith("_")}
        following: Execution = flow(execution=self.id, **inputs)
        return following

    def __str__(self) -> str:
        return self.id

    def __repr__(self) -> str:
        return f"Execution(flow={self.flow.__name__}, id={self.id!r})"

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, Execution):
            return (self.flow, self.id, self.datastore) == (other.flow, other.id, other.datastore)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.flow, self.id, self.datastore))
