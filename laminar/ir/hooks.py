"""A layer's hooks as specs: the flow's hooks first, then the layer's, each with the upstream
layers it takes (which become dependencies of the layer, as ``__call__``'s do)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from laminar.configurations import hooks as hook_kinds
from laminar.errors import FlowDefinitionError
from laminar.ir.arguments import check_plain, function_arguments
from laminar.model.layer import Layer

if TYPE_CHECKING:
    from laminar.model.flow import Flow, Registration


@dataclass(frozen=True)
class HookSpec:
    """One hook of one layer."""

    #: ``entry`` or ``execution``.
    kind: str
    #: The method's name, on the layer or (``on_flow``) on the flow.
    name: str
    #: Argument name -> upstream layer name, as for ``__call__``.
    arguments: tuple[tuple[str, str], ...]
    #: The function, called with the running layer as ``self``.
    function: Callable[..., Any]
    #: Whether the flow defines it (then it applies to every layer).
    on_flow: bool = False

    @property
    def generator(self) -> bool:
        return inspect.isgeneratorfunction(inspect.unwrap(self.function))


def layer_hooks(
    flow: type[Flow], cls: type[Layer], by_name: dict[str, Registration]
) -> tuple[HookSpec, ...]:
    """The hooks of layer ``cls`` in ``flow``, in the order they run; refuses what cannot run."""
    found: list[HookSpec] = []
    for on_flow, owner in ((True, flow), (False, cls)):
        for kind, name, function in hook_kinds.hooks_of(owner):
            where = f"{owner.__name__}.{name}"
            check_plain(f"{'Flow' if on_flow else 'Layer'} hook {where}", name, function)
            if kind == hook_kinds.EXIT:
                if not on_flow:
                    raise FlowDefinitionError(
                        f"{where} is a @hooks.exit hook on a layer; an exit hook runs once per "
                        f"run, so it belongs on the flow: move it to class {flow.__name__}."
                    )
                continue  # the flow's, once per run: exit_hooks()
            arguments = tuple(function_arguments(flow, cls, function, name, by_name))
            if on_flow and arguments:
                raise FlowDefinitionError(
                    f"Flow hook {where} takes layers ({', '.join(a for a, _ in arguments)}): a "
                    "flow hook runs for every layer, including those layers. Move the hook "
                    "to the layers that need those arguments."
                )
            spec = HookSpec(kind, name, arguments, function, on_flow)
            if kind == hook_kinds.ENTRY and spec.generator:
                raise FlowDefinitionError(
                    f"Entry hook {where} is a generator: an entry hook returns True or False "
                    "and cannot yield. Use @hooks.execution for code around __call__."
                )
            if kind in (hook_kinds.SUBMISSION, hook_kinds.RETRY) and spec.generator:
                raise FlowDefinitionError(
                    f"{kind.capitalize()} hook {where} is a generator: it sets "
                    "self.configuration.container.cpu/memory/gpu and returns, and cannot "
                    "yield. Use @hooks.execution for code around __call__."
                )
            found.append(spec)
    return tuple(found)


def exit_hooks(flow: type[Flow]) -> tuple[HookSpec, ...]:
    """The flow's ``@hooks.exit`` hooks, in definition order: each takes the run's
    ``Execution`` as its one argument and runs once per run."""
    found: list[HookSpec] = []
    for kind, name, function in hook_kinds.hooks_of(flow):
        if kind != hook_kinds.EXIT:
            continue
        where = f"{flow.__name__}.{name}"
        target = inspect.unwrap(function)
        if inspect.isgeneratorfunction(target) or inspect.iscoroutinefunction(target):
            raise FlowDefinitionError(
                f"Exit hook {where} is a generator or async function; an exit hook is a plain "
                "function: def notify(self, execution) -> None."
            )
        try:
            parameters = list(inspect.signature(target).parameters)
        except (TypeError, ValueError):
            parameters = []
        if len(parameters) != 2:
            raise FlowDefinitionError(
                f"Exit hook {where} takes {', '.join(parameters) or 'nothing'}; it takes the "
                "run's Execution: def notify(self, execution) -> None."
            )
        found.append(HookSpec(kind, name, (), function, on_flow=True))
    return tuple(found)
