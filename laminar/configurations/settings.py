"""One home per setting: ``LayerSettings`` (``@MyFlow.register(...)``) and ``FlowSettings``
(``class MyFlow(Flow, ...)``).

Each setting is one field below, declared with ``setting(...)``: its type check or conversion
and the example an error message shows. The value is created once, where the user writes it,
then carried whole: the IR keeps it on the layer's spec (``LayerSpec.settings``), the runtime
exposes it as ``self.configuration``, ``laminar graph --format json`` dumps it field by field
(``to_data``) and the lowering reads it. Adding a setting is adding a field here (and to the
``TypedDict`` that types the keyword arguments, which a test keeps equal), then reading it
where it takes effect: nothing lists the settings again.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

from laminar.configurations.catch import Catch
from laminar.configurations.layers import Cache, Container, ForEach, Retry, describe
from laminar.configurations.schedule import Schedule
from laminar.errors import ConfigurationError

#: The longest duration a setting takes (a week): longer is a typo.
MAX_DURATION = 7 * 86400.0

#: A setting's check: the value as given -> the value kept; raises ``ValueError`` saying what
#: is wrong with it (the message is completed with where it was given and an example).
Check = Callable[[Any], Any]


def setting(check: Check, example: str) -> Any:
    """A settings field: ``None`` unless given; ``check(value)`` validates it."""
    return field(default=None, metadata={"check": check, "example": example})


def instance_of(kind: type) -> Check:
    """A check that the value is a ``kind`` (a configuration object), kept as it is."""

    def check(value: Any) -> Any:
        if not isinstance(value, kind):
            raise ValueError(f"it takes a {kind.__name__}")
        return value

    return check


def seconds(value: Any) -> float:
    """A duration: seconds (a positive number) or a ``datetime.timedelta``, kept as seconds."""
    if isinstance(value, datetime.timedelta):
        value = value.total_seconds()
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError("it takes a positive number of seconds or a datetime.timedelta")
    if value > MAX_DURATION:
        raise ValueError(f"it is more than a week ({MAX_DURATION:g} s), which no target keeps")
    return float(value)


def cached(value: Any) -> Cache | None:
    """``cache=True`` or ``Cache(...)``, kept as a ``Cache`` (``True`` is ``Cache()``)."""
    if value is True:
        return Cache()
    if value is False:
        return None  # cache=False: as if not given
    if not isinstance(value, Cache):
        raise ValueError("it takes True or a Cache")
    return value


def positive(value: Any) -> int:
    """A whole number, 1 or more."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("it takes a whole number, 1 or more")
    return value


def _checked(instance: Any, owner: str) -> None:
    """Run every field's check on ``instance`` (a frozen settings object), in place."""
    for spec in dataclasses.fields(instance):
        value = getattr(instance, spec.name)
        if value is None:
            continue
        try:
            kept = spec.metadata["check"](value)
        except ValueError as problem:
            raise ConfigurationError(
                f"{owner}({spec.name}={describe(value)}): {problem}; write "
                f"{spec.name}={spec.metadata['example']}, or leave it out."
            ) from None
        object.__setattr__(instance, spec.name, kept)


@dataclass(frozen=True)
class LayerSettings:
    """How a layer is registered: ``@MyFlow.register(foreach=..., retry=..., ...)``.

    A running layer reads it as ``self.configuration`` (read-only).
    """

    #: Fan out: one task per element (or combination) of upstream attributes.
    foreach: ForEach | None = setting(instance_of(ForEach), "ForEach(parameters=[...])")
    #: Run a failing task again.
    retry: Retry | None = setting(instance_of(Retry), "Retry(attempts=3)")
    #: Where the layer runs when deployed: image, resources, environment.
    container: Container | None = setting(instance_of(Container), "Container(image='...')")
    #: Exceptions that leave a task not finished instead of failing the run.
    catch: Catch | None = setting(instance_of(Catch), "Catch(TypeError, IOError)")
    #: The longest one attempt of a task may run, in seconds.
    timeout: float | None = setting(seconds, "600 or datetime.timedelta(minutes=10)")
    #: Serve a task from an earlier execution when everything it reads is identical.
    cache: Cache | None = setting(cached, "True or Cache(version='2', max_age=86400)")

    def __post_init__(self) -> None:
        _checked(self, "register")
        if self.catch is not None and not self.catch:
            object.__setattr__(self, "catch", None)  # Catch() catches nothing


class LayerOptions(TypedDict, total=False):
    """The keyword arguments of ``register``: the fields of ``LayerSettings``."""

    foreach: ForEach | None
    retry: Retry | None
    container: Container | None
    catch: Catch | None
    timeout: float | datetime.timedelta | None
    cache: bool | Cache | None


@dataclass(frozen=True)
class FlowSettings:
    """Flow-wide settings, given as class keywords: ``class MyFlow(Flow, name=value): ...``.

    A flow inherits the settings of the flows it derives from; its own keywords win.
    """

    #: The longest the whole run may take, in seconds.
    timeout: float | None = setting(seconds, "3600 or datetime.timedelta(hours=1)")
    #: When the flow runs by itself (``Schedule("0 3 * * *", timezone=..., catchup=...)``).
    schedule: Schedule | None = setting(instance_of(Schedule), "Schedule('0 3 * * *')")
    #: At most this many runs of the flow at once (1: a run waits for the one before).
    max_active_runs: int | None = setting(positive, "1")

    def __post_init__(self) -> None:
        _checked(self, "Flow")


class FlowOptions(TypedDict, total=False):
    """The class keywords of a flow: the fields of ``FlowSettings``."""

    timeout: float | datetime.timedelta | None
    schedule: Schedule | None
    max_active_runs: int | None


def settings_of(kind: type[Any], owner: str, given: Mapping[str, Any]) -> Any:
    """``kind(**given)`` with an unknown keyword named, and the known ones listed."""
    known = [spec.name for spec in dataclasses.fields(kind)]
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise ConfigurationError(
            f"{owner} got an unknown setting {unknown[0]!r}; the settings are: {', '.join(known)}."
        )
    return kind(**given)


def to_data(value: Any) -> Any:
    """A settings value as JSON data, field by field, so that a new field is dumped without
    being listed: dataclasses as objects, classes by name, ``Catch`` as its names."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {spec.name: to_data(getattr(value, spec.name)) for spec in dataclasses.fields(value)}
    if isinstance(value, type):
        return value.__name__
    if isinstance(value, Catch):
        return list(value.names())
    if isinstance(value, enum.Enum):
        return to_data(value.value)
    if isinstance(value, Mapping):
        return {str(key): to_data(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_data(item) for item in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)
