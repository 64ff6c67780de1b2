"""Layer configurations: fan-out (``ForEach``/``Parameter``), ``Retry`` and ``Container``.

They are plain frozen values, validated when they are created so that a typo fails on the
user's own line rather than inside a backend.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from laminar.errors import ConfigurationError
from laminar.model.parameters import Parameters as _Parameters

if TYPE_CHECKING:
    from laminar.model.layer import Layer

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CPU = re.compile(r"^(\d+(\.\d+)?|\d+m)$")
_MEMORY = re.compile(r"^\d+(\.\d+)?([EPTGMK]i?|[eE]\d+|m|k)?$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Parameter:
    """One input of a ``ForEach``: the attribute ``attribute`` of the upstream layer ``layer``.

    ``index=0`` (the default) fans out over the attribute's elements when it is sharded (or is
    the join of a ForEach layer), as one axis of the grid; an attribute that is not sharded is
    passed whole to every task. ``index=None`` maps the tasks 1:1 onto the tasks of ``layer``,
    which must itself be a ForEach layer (a chained ForEach).
    """

    layer: type[Layer]
    attribute: str
    index: int | None = 0

    def __post_init__(self) -> None:
        from laminar.model.layer import Layer

        if not (isinstance(self.layer, type) and issubclass(self.layer, Layer)):
            raise ConfigurationError(
                f"Parameter(layer={self.layer!r}): layer must be a Layer class, "
                "for example Parameter(layer=Shard, attribute='foo')."
            )
        if not isinstance(self.attribute, str) or not _IDENTIFIER.match(self.attribute):
            raise ConfigurationError(
                f"Parameter(layer={self.layer.__name__}, attribute={self.attribute!r}): "
                "attribute must be the name of an attribute the layer sets, such as 'foo'."
            )
        if self.index is not None and (isinstance(self.index, bool) or self.index != 0):
            raise ConfigurationError(
                f"Parameter(layer={self.layer.__name__}, attribute={self.attribute!r}, "
                f"index={self.index!r}): index is 0 (the default: fan out over the elements) "
                "or None (map 1:1 onto the tasks of an upstream ForEach layer)."
            )


#: The built-in layer of a flow's inputs (``def __call__(self, parameters: Parameters)``).
#: The seed imports it from here, as the original library's users did.
Parameters = _Parameters


@dataclass(frozen=True)
class ForEach:
    """Run a layer once per element (or per combination of elements) of its parameters.

    With several parameters the tasks are the cartesian product, the first parameter
    varying fastest: index 0 is (p0[0], p1[0]), index 1 is (p0[1], p1[0]), ...
    """

    parameters: Sequence[Parameter] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        params = self.parameters
        if isinstance(params, Parameter):
            params = (params,)
        if not isinstance(params, Sequence) or isinstance(params, str):
            raise ConfigurationError(
                "ForEach(parameters=...) takes a list of Parameter(layer=..., attribute=...)."
            )
        params = tuple(params)
        if not params:
            raise ConfigurationError(
                "ForEach(parameters=[]) has nothing to fan out over: add at least one "
                "Parameter(layer=..., attribute=...)."
            )
        for p in params:
            if not isinstance(p, Parameter):
                raise ConfigurationError(
                    f"ForEach(parameters=[...]) got {p!r}; each entry must be a "
                    "Parameter(layer=..., attribute=...)."
                )
        seen: set[tuple[str, str]] = set()
        for p in params:
            key = (p.layer.__name__, p.attribute)
            if key in seen:
                raise ConfigurationError(
                    f"ForEach lists Parameter(layer={key[0]}, attribute={key[1]!r}) twice; "
                    "list each attribute once."
                )
            seen.add(key)
        object.__setattr__(self, "parameters", params)


@dataclass(frozen=True)
class Retry:
    """Run a failing layer (or ForEach task) up to ``attempts`` times in all.

    The wait before retry ``k`` (1-based) is ``delay * backoff ** (k - 1)`` seconds.
    """

    attempts: int = 3
    delay: float = 1.0
    backoff: float = 1.0

    def __post_init__(self) -> None:
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, int):
            raise ConfigurationError(f"Retry(attempts={self.attempts!r}) must be an integer.")
        if self.attempts < 1:
            raise ConfigurationError(
                f"Retry(attempts={self.attempts}) must be at least 1 (1 means no retry)."
            )
        if not isinstance(self.delay, (int, float)) or self.delay < 0:
            raise ConfigurationError(f"Retry(delay={self.delay!r}) must be seconds >= 0.")
        if not isinstance(self.backoff, (int, float)) or self.backoff < 1:
            raise ConfigurationError(
                f"Retry(backoff={self.backoff!r}) must be a factor >= 1 (1 means a fixed delay)."
            )

    def wait_before(self, retry_number: int) -> float:
        """Seconds to wait before retry ``retry_number`` (1 is the first retry)."""
        return float(self.delay) * float(self.backoff) ** (retry_number - 1)


@dataclass(frozen=True)
class Container:
    """Where a layer runs when deployed: image, Kubernetes-style resources and environment.

    ``cpu`` is cores (``2``, ``0.5``, ``"500m"``); ``memory`` a Kubernetes quantity (``"4Gi"``).
    Values left as ``None`` come from the compile options.
    """

    image: str | None = None
    cpu: str | float | int | None = None
    memory: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.image is not None and (not isinstance(self.image, str) or not self.image.strip()):
            raise ConfigurationError(
                f"Container(image={self.image!r}) must be an image reference such as "
                "'python:3.11-slim'."
            )
        if self.cpu is not None and (
            isinstance(self.cpu, bool)
            or not _CPU.match(str(self.cpu))
            or float(str(self.cpu).rstrip("m") or 0) <= 0
        ):
            raise ConfigurationError(
                f"Container(cpu={self.cpu!r}) must be a positive number of cores "
                "(2, 0.5) or millicores ('500m')."
            )
        if self.memory is not None and (
            not isinstance(self.memory, str) or not _MEMORY.match(self.memory)
        ):
            raise ConfigurationError(
                f"Container(memory={self.memory!r}) must be a Kubernetes quantity such as "
                "'512Mi' or '4Gi'."
            )
        if not isinstance(self.env, Mapping):
            raise ConfigurationError("Container(env=...) must be a dict of name -> string.")
        env: dict[str, str] = {}
        for key, value in self.env.items():
            if not isinstance(key, str) or not _ENV_NAME.match(key):
                raise ConfigurationError(
                    f"Container(env={{{key!r}: ...}}): variable names are letters, digits "
                    "and underscores, not starting with a digit."
                )
            if not isinstance(value, str):
                raise ConfigurationError(
                    f"Container(env={{{key!r}: {value!r}}}): values must be strings; "
                    f"write {str(value)!r}."
                )
            env[key] = value
        object.__setattr__(self, "env", dict(sorted(env.items())))

    @property
    def cpu_quantity(self) -> str | None:
        """``cpu`` as a Kubernetes quantity string (``"2"``, ``"500m"``)."""
        return None if self.cpu is None else str(self.cpu)

    def __hash__(self) -> int:
        return hash((self.image, self.cpu, self.memory, tuple(sorted(self.env.items()))))


def describe(value: Any) -> str:
    """A short description of a value for error messages."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
