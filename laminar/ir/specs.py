"""The IR's values: ``LayerSpec`` (one layer, frozen) and ``FlowIR`` (a validated flow).

Plain values the runtime and every backend read; ``build.py`` makes them. ``FlowIR`` is a
plain class whose ``networkx`` graph is built on first use: a deployed task builds the IR
again and never needs it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from laminar.configurations.settings import FlowSettings, LayerSettings
from laminar.errors import FlowDefinitionError
from laminar.ir.hooks import HookSpec
from laminar.model.layer import Layer
from laminar.model.parameters import PARAMETERS, InputSpec
from laminar.text import describe_bytes, printable

if TYPE_CHECKING:
    import networkx as nx


@dataclass(frozen=True)
class ParameterSpec:
    """One fan-out input: ``layer.attribute``; ``mapped`` is ``Parameter(index=None)``."""

    layer: str
    attribute: str
    mapped: bool = False


@dataclass(frozen=True)
class LayerSpec:
    """Everything about one layer that a runtime or backend needs, and nothing else."""

    name: str
    #: ``__call__`` argument name -> upstream layer name, in signature order.
    arguments: tuple[tuple[str, str], ...]
    #: Upstream layer names, sorted; includes layers named only by a ``Parameter``.
    dependencies: tuple[str, ...]
    #: Fan-out inputs in declaration order; empty for a layer that runs once.
    foreach: tuple[ParameterSpec, ...] = ()
    #: The layer's settings as registered (retry, container, catch, ...), carried whole.
    settings: LayerSettings = LayerSettings()
    #: ``file:line`` of the layer's class, for error messages.
    source: str = ""
    #: The layer's hooks (the flow's first), in the order they run.
    hooks: tuple[HookSpec, ...] = ()
    #: The layer class's own docstring (``""``: none), shown as its task's docs.
    description: str = ""

    @property
    def is_foreach(self) -> bool:
        return bool(self.foreach)

    @property
    def reads_inputs(self) -> bool:
        """Whether ``__call__`` or a hook takes the built-in ``Parameters`` layer (the flow's
        inputs)."""
        arguments = [*self.arguments, *(a for hook in self.hooks for a in hook.arguments)]
        return any(upstream == PARAMETERS for _, upstream in arguments)

    def hooks_of(self, kind: str) -> tuple[HookSpec, ...]:
        return tuple(hook for hook in self.hooks if hook.kind == kind)

    @property
    def has_entry(self) -> bool:
        """Whether an entry hook decides if the layer (each task of a ForEach) runs."""
        return any(hook.kind == "entry" for hook in self.hooks)

    @property
    def sized(self) -> bool:
        """Whether ``@hooks.submission`` or ``@hooks.retry`` hooks decide its tasks' resources."""
        return any(hook.kind in ("submission", "retry") for hook in self.hooks)

    @property
    def plan_reads(self) -> tuple[str, ...]:
        """The layers the layer's plan reads, sorted: what a ForEach fans out over, and the
        arguments of the hooks a plan runs (the entry hooks of a layer without ForEach, the
        hooks that size its pods). Its plan needs nothing else, so it can be made as soon as
        these have run (``backends/fusion.py``); the built-in ``Parameters`` is no layer."""
        kinds = ("submission", "retry") if self.is_foreach else ("entry", "submission", "retry")
        found = {param.layer for param in self.foreach}
        found.update(up for hook in self.hooks if hook.kind in kinds for _, up in hook.arguments)
        return tuple(sorted(found - {PARAMETERS}))

    @property
    def follows(self) -> str | None:
        """The ForEach layer whose legs this one's tasks follow, task i after task i: it fans
        out 1:1 over that layer only, its only upstream, and no hook of its own decides its
        tasks (entry) or their pods (submission, retry). Its task count and legs are that
        layer's, so no step plans it (issue 24); ``None`` otherwise."""
        if not self.foreach or len(self.dependencies) != 1:
            return None
        if self.has_entry or self.sized:
            return None
        upstream = self.dependencies[0]
        mapped = all(param.mapped and param.layer == upstream for param in self.foreach)
        return upstream if mapped else None


class FlowIR:
    """A validated flow: the layer specs plus the classes the runtime instantiates.

    (A plain class: making a dataclass costs every deployed task's start-up a little.)
    """

    def __init__(
        self,
        name: str,
        layers: dict[str, LayerSpec],
        classes: dict[str, type[Layer]],
        order: tuple[str, ...],
        inputs: tuple[InputSpec, ...] = (),
        settings: FlowSettings = FlowSettings(),
        description: str = "",
        exits: tuple[HookSpec, ...] = (),
        flow: type | None = None,
    ) -> None:
        self.name = name
        #: Layer name -> spec, in registration order.
        self.layers = layers
        self.classes = classes
        #: Layer names in a deterministic topological order (registration order breaks ties).
        self.order = order
        #: The inputs the flow declares (annotations on its class), in declaration order.
        self.inputs = inputs
        #: The flow-wide settings (``class MyFlow(Flow, name=value)``).
        self.settings = settings
        #: The flow class's own docstring (``""``: none).
        self.description = description
        #: The flow's ``@hooks.exit`` hooks: run once per run, after it ends.
        self.exits = exits
        #: The flow class (an exit hook's ``self`` is an instance of it).
        self.flow = flow

    def __repr__(self) -> str:
        return f"FlowIR(name={self.name!r}, order={self.order!r})"

    @functools.cached_property
    def graph(self) -> nx.DiGraph[str]:
        """The layers as a ``networkx.DiGraph`` (node attribute ``spec``; an edge runs from
        each dependency to its dependent), built on first use: the runtime never needs it."""
        import networkx as nx

        graph: nx.DiGraph[str] = nx.DiGraph()
        for name, spec in self.layers.items():
            graph.add_node(name, spec=spec)
        for name, spec in self.layers.items():
            for upstream in spec.dependencies:
                graph.add_edge(upstream, name)
        return graph

    def spec(self, name: str) -> LayerSpec:
        try:
            return self.layers[name]
        except KeyError:
            known = ", ".join(printable(n) for n in self.order) or "none"
            raise FlowDefinitionError(
                f"Flow {printable(self.name)} has no layer named {describe_bytes(name)} "
                f"(its layers: {known})."
            ) from None

    def specs(self) -> Iterator[LayerSpec]:
        for name in self.order:
            yield self.layers[name]

    @functools.cached_property
    def branches(self) -> bool:
        """Whether any layer may be skipped or not finish (entry hooks, ``Catch``): only then
        does a task check how the layers before it ended."""
        return any(
            spec.has_entry or spec.settings.catch is not None for spec in self.layers.values()
        )

    def downstream(self, name: str) -> tuple[str, ...]:
        """The layers that depend on ``name``, in run order (one pass builds them all)."""
        return self._downstream.get(name, ())

    @functools.cached_property
    def _downstream(self) -> dict[str, tuple[str, ...]]:
        found: dict[str, list[str]] = {}
        for layer in self.order:
            for upstream in self.layers[layer].dependencies:
                found.setdefault(upstream, []).append(layer)
        return {name: tuple(layers) for name, layers in found.items()}
