"""``Execution``: what ``flow(...)`` returns, and ``flow.execution(id)`` reopens.

A handle on one execution of a flow in one datastore: its id, its layers' results
(``execution.layer(A).foo``), and ``resume()`` to run it again from its committed results.
Wherever an execution id is accepted, an ``Execution`` is too (``str(execution)`` is its id).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from laminar.model.parameters import PARAMETERS, Parameters
from laminar.runtime.inputs import parameters_view
from laminar.runtime.results import ExecutionResults, LayerResults, open_results
from laminar.store.inputs import read_inputs

if TYPE_CHECKING:
    from laminar.model.flow import Flow
    from laminar.model.layer import Layer


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
        finds every flow's part of a chain: ``flow2.execution(last.id).layer(B)``."""
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
