"""The intermediate representation: a graph of frozen layer specs.

This is the one place where a flow's meaning is decided: which layers exist, what each
depends on, how each fans out, and its settings (``LayerSettings``, carried whole). Everything
downstream (the runtime, the local executor, every backend) reads this and decides nothing.

The graph is built, checked for cycles and ordered in plain Python, because every deployed
task builds the IR again and importing networkx cost it more than the rest of its start-up
(issue 15). ``FlowIR.graph`` still offers the ``networkx.DiGraph`` to whoever wants one
(compilers, ``laminar graph``), built on first use.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from laminar.configurations.settings import FlowSettings, LayerSettings
from laminar.errors import ConfigurationError, FlowDefinitionError, LaminarWarning
from laminar.ir.arguments import call_arguments
from laminar.ir.checks import check_name, docstring, source_of, unique_registrations
from laminar.ir.hooks import HookSpec, exit_hooks, layer_hooks
from laminar.ir.order import find_cycle, successors_of, topological_order
from laminar.model.layer import Layer
from laminar.model.parameters import PARAMETERS, InputSpec, declared_inputs
from laminar.text import describe_bytes, printable

if TYPE_CHECKING:
    import networkx as nx

    from laminar.model.flow import Flow, Registration


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


def build_ir(flow: type[Flow]) -> FlowIR:
    """Validate ``flow``'s registrations and build its graph. Raises ``FlowDefinitionError``."""
    check_name("Flow", flow.__name__)
    registrations = flow.registrations()
    if not registrations:
        raise FlowDefinitionError(
            f"Flow {flow.__name__} has no layers: decorate Layer classes with "
            f"@{flow.__name__}.register."
        )
    by_name = unique_registrations(flow.__name__, registrations)

    layers = {name: _layer_spec(flow, reg, by_name) for name, reg in by_name.items()}
    successors = successors_of(layers)
    cycle = find_cycle(successors)
    if cycle:
        path = " -> ".join([*cycle, cycle[0]])
        raise FlowDefinitionError(
            f"Flow {flow.__name__} has a dependency cycle: {path}. A layer cannot depend, "
            "directly or through others, on itself; remove one of these dependencies."
        )

    ir = FlowIR(
        name=flow.__name__,
        layers=layers,
        classes={name: reg.layer for name, reg in by_name.items()},
        order=topological_order(layers, successors),
        inputs=_inputs(flow),
        settings=flow._flow_settings,
        description=docstring(flow),
        exits=exit_hooks(flow),
        flow=flow,
    )
    for spec in ir.specs():
        _check_parameters(ir, spec)
    return ir


def _layer_spec(flow: type[Flow], reg: Registration, by_name: dict[str, Registration]) -> LayerSpec:
    cls = reg.layer
    name = cls.__name__
    arguments = tuple(call_arguments(flow, cls, by_name))
    hooks = layer_hooks(flow, cls, by_name)
    # The built-in Parameters layer is read from the execution's inputs: it runs no task.
    dependencies = {
        upstream
        for _, upstream in (*arguments, *(a for hook in hooks for a in hook.arguments))
        if upstream != PARAMETERS
    }
    parameters: list[ParameterSpec] = []
    foreach = reg.settings.foreach
    if foreach is not None:
        for param in foreach.parameters:
            upstream = param.layer.__name__
            if upstream == name:
                raise FlowDefinitionError(
                    f"Layer {name} ({source_of(cls)}) has Parameter(layer={name}, "
                    f"attribute={param.attribute!r}): a layer cannot fan out over itself. "
                    "Name an upstream layer."
                )
            registered = by_name.get(upstream)
            if registered is None or registered.layer is not param.layer:
                raise FlowDefinitionError(
                    f"Layer {name} ({source_of(cls)}) has Parameter(layer={upstream}, ...), but "
                    f"{upstream} is not registered in {flow.__name__}. Add "
                    f"@{flow.__name__}.register to {upstream}."
                )
            dependencies.add(upstream)
            parameters.append(ParameterSpec(upstream, param.attribute, param.index is None))
    return LayerSpec(
        name=name,
        arguments=arguments,
        dependencies=tuple(sorted(dependencies)),
        foreach=tuple(parameters),
        settings=reg.settings,
        source=source_of(cls),
        hooks=hooks,
        description=docstring(cls),
    )


def _check_parameters(ir: FlowIR, spec: LayerSpec) -> None:
    for param in spec.foreach:
        upstream = ir.spec(param.layer)
        if param.mapped and not upstream.is_foreach:
            raise FlowDefinitionError(
                f"Layer {spec.name} has Parameter(layer={param.layer}, "
                f"attribute={param.attribute!r}, index=None), but {param.layer} is not a "
                "ForEach layer, so there are no tasks to map 1:1 onto. Drop index=None to "
                f"fan out over the elements of {param.layer}.{param.attribute}."
            )
        from laminar.model.attributes import assigned_attributes  # ast: only for ForEach

        known = assigned_attributes(ir.classes[param.layer])
        if known is None or param.attribute in known.names:
            continue
        listed = ", ".join(sorted(known.names)) or "none"
        where = (
            f"Layer {spec.name} has Parameter(layer={param.layer}, "
            f"attribute={param.attribute!r}), but {param.layer}"
        )
        if not known.sure:
            # A mixin or a helper may set it where the source check does not look.
            warnings.warn(
                f"{where} does not visibly set self.{param.attribute} (it visibly sets: "
                f"{listed}); this is checked again when the flow runs.",
                LaminarWarning,
                stacklevel=2,
            )
            continue
        raise FlowDefinitionError(
            f"{where} never sets self.{param.attribute} (it sets: {listed}). Set it in "
            f"{param.layer}.__call__ or name one of those attributes."
        )


def _inputs(flow: type[Flow]) -> tuple[InputSpec, ...]:
    try:
        return declared_inputs(flow)
    except ConfigurationError as error:
        raise FlowDefinitionError(str(error)) from None
