"""``build_ir``: a Flow class's registrations validated into a ``FlowIR``.

Each layer's dependencies come from its ``__call__``, its hooks and its ``ForEach``
parameters; the graph is checked for cycles and ordered in plain Python (``order.py``), and
each fan-out is checked against the layer it reads. Every error names the layer and a fix.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

from laminar.errors import ConfigurationError, FlowDefinitionError, LaminarWarning
from laminar.ir.arguments import call_arguments
from laminar.ir.checks import check_name, docstring, source_of, unique_registrations
from laminar.ir.hooks import exit_hooks, layer_hooks
from laminar.ir.order import find_cycle, successors_of, topological_order
from laminar.ir.specs import FlowIR, LayerSpec, ParameterSpec
from laminar.model.parameters import PARAMETERS, InputSpec, declared_inputs

if TYPE_CHECKING:
    from laminar.model.flow import Flow, Registration


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
