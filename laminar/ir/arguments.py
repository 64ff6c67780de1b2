"""A layer's ``__call__`` arguments as (argument, upstream layer) pairs: the dependencies the
user declared, resolved and checked against the flow's registrations."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from laminar.errors import FlowDefinitionError
from laminar.model.layer import Layer
from laminar.model.parameters import PARAMETERS, Parameters

if TYPE_CHECKING:
    from laminar.model.flow import Flow, Registration


def call_arguments(
    flow: type[Flow], cls: type[Layer], by_name: dict[str, Registration]
) -> Iterator[tuple[str, str]]:
    """``__call__``'s dependencies (``__init__`` is checked too: the runtime calls it)."""
    if cls.__init__ is not Layer.__init__:
        check_plain(f"Layer {cls.__name__}.__init__", "__init__", cls.__init__)
    check_plain(f"Layer {cls.__name__}.__call__", "__call__", cls.__call__)
    return function_arguments(flow, cls, cls.__call__, "__call__", by_name)


def check_plain(where: str, method: str, function: Any) -> None:
    """Refuse ``async def`` (and a generator ``__call__``): laminar calls ``__call__`` and
    hooks without awaiting or iterating them, so their code would never run."""
    inner = inspect.unwrap(function)
    if inspect.iscoroutinefunction(inner) or inspect.isasyncgenfunction(inner):
        raise FlowDefinitionError(
            f"{where} is an async def: laminar calls {method} without awaiting it, so its "
            "code would never run. Make it a plain def and run async code inside it with "
            "asyncio.run(...)."
        )
    if method in ("__call__", "__init__") and inspect.isgeneratorfunction(inner):
        raise FlowDefinitionError(
            f"{where} is a generator (it yields): laminar calls {method} without "
            "iterating it, so its code would never run. Set attributes instead of yielding "
            "(self.shard(items=...) stores each element separately)."
        )


def function_arguments(
    flow: type[Flow],
    cls: type[Layer],
    function: Any,
    method: str,
    by_name: dict[str, Registration],
) -> Iterator[tuple[str, str]]:
    """The dependencies of ``cls``'s method ``method`` (``__call__`` or a hook), declared
    as annotated arguments after ``self``."""
    name = f"{cls.__name__}.{method}"
    signature = inspect.signature(function)
    hints = _resolve_hints(function, by_name)
    for index, (arg, param) in enumerate(signature.parameters.items()):
        if index == 0:
            continue  # self
        if param.kind is param.POSITIONAL_ONLY:
            raise FlowDefinitionError(
                f"Layer {name} takes {arg!r} as a positional-only argument (before "
                f"/), but laminar passes upstream layers by name. Remove the / so that "
                f"{arg} can be passed as {arg}=..."
            )
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise FlowDefinitionError(
                f"Layer {name} takes *{arg}: declare each upstream layer as its own "
                "annotated argument, such as def __call__(self, shard: Shard)."
            )
        annotation = hints.get(arg, param.annotation)
        if annotation is inspect.Parameter.empty:
            raise FlowDefinitionError(
                f"Layer {name} argument {arg!r} has no annotation; annotate it with "
                f"the upstream layer class, such as {arg}: Shard."
            )
        upstream = _annotation_layer(annotation)
        if upstream == PARAMETERS and annotation in (Parameters, PARAMETERS):
            yield arg, PARAMETERS
            continue
        registered = by_name.get(upstream) if upstream else None
        if registered is None or (
            isinstance(annotation, type) and registered.layer is not annotation
        ):
            shown = upstream or repr(annotation)
            raise FlowDefinitionError(
                f"Layer {name} argument {arg!r} is annotated {shown}, which is not a "
                f"layer registered in {flow.__name__}. Register it with "
                f"@{flow.__name__}.register, or fix the annotation."
            )
        yield arg, registered.layer.__name__


def _resolve_hints(function: Any, by_name: dict[str, Registration]) -> dict[str, Any]:
    """Resolve ``function``'s annotations, string ones included, against its module."""
    import sys

    function = inspect.unwrap(function)
    module = sys.modules.get(getattr(function, "__module__", None) or "")
    namespace: dict[str, Any] = vars(module) if module is not None else {}
    # Layer names resolve first (as locals), through a view: copying the module and the
    # layers for every layer made building a 5,000-layer flow quadratic.
    layers = _LayerClasses(by_name)
    try:
        return typing.get_type_hints(function, globalns=namespace, localns=layers)
    except Exception:
        # An unresolvable name: fall back to the raw annotations, reported per argument.
        return {}


class _LayerClasses(Mapping[str, Any]):
    """The registered layer classes by name, read from the registrations without a copy."""

    def __init__(self, by_name: dict[str, Registration]) -> None:
        self._by_name = by_name

    def __getitem__(self, name: str) -> Any:
        if name == PARAMETERS:
            return Parameters
        return self._by_name[name].layer

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)


def _annotation_layer(annotation: Any) -> str | None:
    if isinstance(annotation, type) and issubclass(annotation, Layer):
        return annotation.__name__
    if isinstance(annotation, str):
        return annotation.strip().strip("'\"") or None
    forward = getattr(annotation, "__forward_arg__", None)
    return forward if isinstance(forward, str) else None
