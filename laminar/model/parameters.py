"""Flow inputs: the built-in ``Parameters`` layer and the inputs a flow declares.

A flow declares its inputs as annotations on its class, with defaults where it has them::

    class Nightly(Flow):
        date: str
        sample: int = 100

A layer reads them by taking the built-in layer as an argument, as in the original laminar
library: ``def __call__(self, parameters: Parameters)`` then ``parameters.sample``. The values
are given when an execution starts (``flow(sample=5)``, ``laminar run -p sample=5``, or the
orchestrator's own "run with inputs"), checked and converted here, committed once to the
datastore, and read back by every task.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import typing
from dataclasses import dataclass
from typing import Any, Literal

from laminar.configurations.schedule import LogicalDate, parse_moment
from laminar.contract import NO_CACHE_SWITCH
from laminar.errors import ConfigurationError
from laminar.model.input_values import (
    ARRAY,
    DATE,
    FORMATS,
    OBJECT,
    STRING,
    SUMMARIES,
    TYPES,
    convert,
    json_value,
    moment_text,
)
from laminar.model.layer import Layer

#: The built-in layer's name: a user layer may not take it.
PARAMETERS = "Parameters"

#: Names an input may not take: ``flow(...)``'s own keywords and what a layer view defines.
RESERVED = frozenset({"execution", "datastore", "workers", "quiet", "shard", "index", "name"})
#: Names no input may take: those, and the generated files' per-run switch that ignores the
#: cache (``laminar_no_cache``), which sits beside the inputs on every target.
REFUSED = RESERVED | {NO_CACHE_SWITCH}


class Parameters(Layer):
    """The execution's inputs, as a layer every flow has: ``parameters.sample``.

    Take it as an argument of ``__call__`` (``def __call__(self, parameters: Parameters)``);
    each attribute is one input, as given when the execution started.
    """

    def __call__(self) -> None:  # pragma: no cover - never run: its values are the inputs
        return None


@dataclass(frozen=True)
class InputSpec:
    """One declared input: its name, JSON type, allowed values, and default (JSON value)."""

    name: str
    type: str
    #: For ``Literal[...]`` declarations: the allowed values, in declaration order.
    choices: tuple[Any, ...] = ()
    required: bool = True
    default: Any = None
    #: The type of a list's elements or a dict's values (``list[float]``), when declared.
    items: InputSpec | None = None
    #: What the input is for: ``rows: Annotated[int, "rows to sample"]``; shown in every
    #: trigger form (Airflow's, Argo's, GitHub's "Run workflow").
    description: str = ""
    #: ``date: str = LogicalDate()``: when not given, the run's logical date.
    logical_date: bool = False
    #: ``DATE`` or ``DATE_TIME`` for ``datetime.date``/``datetime.datetime`` inputs (type
    #: ``STRING``, ISO text); empty for the others.
    format: str = ""

    @property
    def summary(self) -> str:
        """What the input holds, for a trigger form that has no description of it."""
        return SUMMARIES.get(self.format, f"{self.type} input")

    def python(self, value: Any) -> Any:
        """The committed (JSON) ``value`` as a layer reads it: ISO text of a date or date-time
        input as a ``datetime`` object, in lists and dicts too; anything else unchanged."""
        if self.format and isinstance(value, str):
            moment = parse_moment(value)
            return moment.date() if self.format == DATE and moment is not None else moment
        if self.items is not None and isinstance(value, list):
            return [self.items.python(v) for v in value]
        if self.items is not None and isinstance(value, dict):
            return {k: self.items.python(v) for k, v in value.items()}
        return value

    def convert(self, value: Any, text: bool = True) -> Any:
        """``value`` as this input's type; strings from an orchestrator are parsed
        (``"100"`` -> ``100``), unless ``text`` is False (an element of a list or dict: it
        arrived as JSON already). Raises ``ConfigurationError`` naming the input."""
        converted = (
            moment_text(self.name, self.format, value)
            if self.format
            else convert(self.name, self.type, value, text)
        )
        if self.items is not None and isinstance(converted, list):
            converted = [
                self.items.element(f"{self.name}[{i}]", v) for i, v in enumerate(converted)
            ]
        elif self.items is not None and isinstance(converted, dict):
            converted = {
                k: self.items.element(f"{self.name}[{k!r}]", v) for k, v in converted.items()
            }
        if self.choices and converted not in self.choices:
            allowed = ", ".join(json.dumps(c) for c in self.choices)
            raise ConfigurationError(
                f"Input {self.name!r} is {json.dumps(converted)}, which is not one of: {allowed}."
            )
        return converted

    def element(self, where: str, value: Any) -> Any:
        """``value`` checked as an element of the input (``where`` names it: ``xs[2]``)."""
        element = InputSpec(where, self.type, self.choices, items=self.items, format=self.format)
        return element.convert(value, False)


def declared_inputs(flow: type) -> tuple[InputSpec, ...]:
    """The inputs a ``Flow`` subclass declares as class annotations (inherited ones first)."""
    found: dict[str, InputSpec] = {}
    for klass in reversed(flow.__mro__):
        if klass.__module__.startswith("laminar.") or klass is object:
            continue
        try:
            hints = typing.get_type_hints(klass, include_extras=True)
        except Exception as error:
            raise ConfigurationError(
                f"Flow {flow.__name__}: cannot read the type of an input ({error}); annotate "
                "inputs with str, int, float, bool, list, dict or Literal[...]."
            ) from None
        own = inspect.get_annotations(klass)
        for name in own:
            annotation = hints.get(name, own[name])
            if name.startswith("_") or typing.get_origin(annotation) is typing.ClassVar:
                continue
            annotation, description = _described(annotation)
            spec = _input(flow, klass, name, annotation)
            found[name] = dataclasses.replace(spec, description=description)
    return tuple(found.values())


def _described(annotation: Any) -> tuple[Any, str]:
    """``Annotated[T, "text"]`` -> ``(T, "text")``; any other annotation has no description."""
    if typing.get_origin(annotation) is not typing.Annotated:
        return annotation, ""
    base, *extras = typing.get_args(annotation)
    texts = [extra for extra in extras if isinstance(extra, str)]
    return base, " ".join(" ".join(text.split()) for text in texts)


def _input(flow: type, klass: type, name: str, annotation: Any) -> InputSpec:
    if name in RESERVED:
        raise ConfigurationError(
            f"Flow {flow.__name__} declares an input named {name!r}, which laminar uses itself "
            f"(flow({name}=...) or a layer attribute); rename the input."
        )
    if name == NO_CACHE_SWITCH:
        raise ConfigurationError(
            f"Flow {flow.__name__} declares an input named {name!r}, the name of the generated "
            "workflows' switch that ignores the cache (docs/caching.md); rename the input."
        )
    spec = _typed(flow, name, annotation)
    if isinstance(klass.__dict__.get(name), LogicalDate):
        if spec.type != STRING or spec.choices:
            raise ConfigurationError(
                f"Flow {flow.__name__}: input {name!r} defaults to LogicalDate(), the run's "
                f"date: annotate it {name}: str ('2026-11-25'), {name}: datetime.date or "
                f"{name}: datetime.datetime (the run's logical time)."
            )
        return dataclasses.replace(spec, required=False, default=None, logical_date=True)
    if name in klass.__dict__:
        default = klass.__dict__[name]
        try:
            checked = spec.convert(default)
            json_value(name, checked)
        except ConfigurationError as error:
            raise ConfigurationError(f"Flow {flow.__name__}: default of {error}") from None
        return dataclasses.replace(spec, required=False, default=checked)
    return spec


def _typed(flow: type, name: str, annotation: Any) -> InputSpec:
    """The spec of input ``name`` annotated ``annotation`` (its elements' too)."""
    if annotation in FORMATS:
        return InputSpec(name, STRING, format=FORMATS[annotation])
    origin = typing.get_origin(annotation)
    if origin is Literal:
        choices = typing.get_args(annotation)
        kinds = {TYPES.get(type(c)) for c in choices}
        if len(kinds) != 1 or None in kinds:
            raise ConfigurationError(
                f"Flow {flow.__name__} input {name!r}: Literal[...] takes values of one type "
                "(all strings, or all numbers)."
            )
        kind = kinds.pop()
        assert kind is not None
        return InputSpec(name, kind, choices)
    kind = TYPES.get(origin or annotation)
    arguments = typing.get_args(annotation)
    if kind is None or (arguments and kind not in (ARRAY, OBJECT)):
        raise ConfigurationError(
            f"Flow {flow.__name__} input {name!r} is annotated {annotation!r}; inputs are "
            "str, int, float, bool, list, dict, Literal[...], datetime.date or "
            "datetime.datetime (JSON values or ISO text; list[float], dict[str, int] and the "
            "like for their elements), so that every orchestrator can pass them."
        )
    if kind == OBJECT and arguments and arguments[0] is not str:
        raise ConfigurationError(
            f"Flow {flow.__name__} input {name!r} is annotated {annotation!r}, but the keys "
            "of a JSON object are strings: annotate it dict[str, ...]."
        )
    element = arguments[-1] if arguments else Any
    items = None if element in (Any, object) else _typed(flow, f"{name}'s elements", element)
    return InputSpec(name, kind, items=items)


def resolve_inputs(declared: tuple[InputSpec, ...], given: dict[str, Any]) -> dict[str, Any]:
    """The execution's inputs: ``given`` checked against the declaration, defaults filled in.

    A flow that declares no inputs takes any JSON values (as the original library did);
    one that declares them refuses unknown names and requires those without defaults.
    """
    for name in given:
        if name in REFUSED or name.startswith("_") or not name.isidentifier():
            raise ConfigurationError(
                f"{name!r} cannot be an input name: inputs are identifiers that are not "
                f"{', '.join(sorted(REFUSED))} and do not start with '_'."
            )
    if not declared:
        return {name: json_value(name, value) for name, value in sorted(given.items())}
    known = {spec.name: spec for spec in declared}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise ConfigurationError(
            f"Unknown input {unknown[0]!r}: this flow's inputs are "
            f"{', '.join(known)}. Declare it on the Flow class ({unknown[0]}: str = ...)."
        )
    out: dict[str, Any] = {}
    for spec in declared:
        if spec.name in given:
            out[spec.name] = spec.convert(given[spec.name])
        elif spec.required:
            raise ConfigurationError(
                f"Input {spec.name!r} is required: pass it, for example "
                f"-p {spec.name}=VALUE (or flow({spec.name}=...)), or give it a default on the "
                "Flow class."
            )
        else:
            out[spec.name] = spec.default
    return out
