"""Layer configurations: fan-out (``ForEach``/``Parameter``), ``Retry`` and ``Container``.

They are plain frozen values, validated when they are created so that a typo fails on the
user's own line rather than inside a backend. Patterns are matched whole (``re.fullmatch``:
``$`` would accept a trailing newline) and numbers must be finite, so every value a backend
receives is one every target can carry.
"""

from __future__ import annotations

import datetime
import math
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from laminar.configurations.catch import Catch
from laminar.configurations.container import check_container
from laminar.configurations.placement import check_placement
from laminar.errors import ConfigurationError
from laminar.model.parameters import Parameters as _Parameters

__all__ = ["Catch", "Container", "ForEach", "Parameter", "Parameters", "Retry"]

if TYPE_CHECKING:
    from laminar.model.layer import Layer

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: More attempts than this is a typo, and more than some targets' retry limits accept.
MAX_ATTEMPTS = 1000
#: The longest wait before one retry (a day): longer is a typo, and overflows some targets.
MAX_WAIT = 86400.0


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
        if not isinstance(self.attribute, str) or not _IDENTIFIER.fullmatch(self.attribute):
            raise ConfigurationError(
                f"Parameter(layer={self.layer.__name__}, attribute={self.attribute!r}): "
                "attribute must be the name of an attribute the layer sets, such as 'foo'."
            )
        if self.attribute.startswith("_"):
            raise ConfigurationError(
                f"Parameter(layer={self.layer.__name__}, attribute={self.attribute!r}): "
                "attributes starting with '_' are private to the run and never stored, so "
                "nothing can fan out over them; name a public attribute."
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
    #: At most this many tasks of the layer at once (``None``: as many as the target allows).
    concurrency: int | None = None

    def __post_init__(self) -> None:
        if self.concurrency is not None and (
            isinstance(self.concurrency, bool)
            or not isinstance(self.concurrency, int)
            or self.concurrency < 1
        ):
            raise ConfigurationError(
                f"ForEach(concurrency={self.concurrency!r}) must be a whole number of tasks "
                "at once, 1 or more, such as ForEach(parameters=[...], concurrency=8)."
            )
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
    #: Up to this many seconds more, at random, before each retry (spreads out retries that
    #: fail together). Honoured where laminar waits itself: locally and by the shim.
    jitter: float = 0.0

    def __post_init__(self) -> None:
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, int):
            raise ConfigurationError(f"Retry(attempts={self.attempts!r}) must be an integer.")
        if not 1 <= self.attempts <= MAX_ATTEMPTS:
            raise ConfigurationError(
                f"Retry(attempts={self.attempts}) must be from 1 (no retry) to {MAX_ATTEMPTS}."
            )
        _seconds("delay", self.delay, minimum=0.0, meaning="seconds >= 0")
        _seconds("backoff", self.backoff, minimum=1.0, meaning="a factor >= 1 (1: fixed delay)")
        _seconds("jitter", self.jitter, minimum=0.0, meaning="seconds >= 0")
        if self.jitter > MAX_WAIT:
            raise ConfigurationError(f"Retry(jitter={self.jitter!r}) is more than a day.")
        if self.attempts > 1 and self.delay > 0:
            # The longest wait, before the last retry, in logarithms: 2.0 ** 999 overflows.
            longest = math.log(self.delay) + (self.attempts - 2) * math.log(self.backoff)
            if longest > math.log(MAX_WAIT):
                raise ConfigurationError(
                    f"Retry(attempts={self.attempts}, delay={self.delay!r}, "
                    f"backoff={self.backoff!r}) waits more than a day ({MAX_WAIT:g} s) before "
                    "its last retry; lower delay, backoff or attempts."
                )

    def wait_before(self, retry_number: int) -> float:
        """Seconds to wait before retry ``retry_number`` (1 is the first retry)."""
        extra = random.uniform(0.0, float(self.jitter)) if self.jitter else 0.0
        if not self.delay:
            return extra  # 0 * backoff ** k, without computing a power that may overflow
        return float(self.delay) * float(self.backoff) ** (retry_number - 1) + extra


@dataclass(frozen=True)
class Cache:
    """Serve a task from an earlier execution's identical task (``register(cache=True)``).

    A task is served from the cache when its layer's class source, ``version``, the settings
    that change results, its ForEach elements, the upstream values it can read and the flow
    inputs it can read all digest (SHA-256) the same as an earlier committed task in the same
    datastore (docs/caching.md). ``version`` invalidates by hand (bump it when code outside
    the class changed); ``max_age`` (seconds or a ``datetime.timedelta``) expires entries.
    """

    version: str = ""
    max_age: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.version, str):
            raise ConfigurationError(
                f"Cache(version={describe(self.version)}) takes a string, as in Cache(version='2')."
            )
        age: Any = self.max_age
        if isinstance(age, datetime.timedelta):
            age = age.total_seconds()
        if age is not None and (
            isinstance(age, bool)
            or not isinstance(age, (int, float))
            or not math.isfinite(age)
            or age <= 0
        ):
            raise ConfigurationError(
                f"Cache(max_age={describe(self.max_age)}) takes a positive number of seconds "
                "or a datetime.timedelta, as in Cache(max_age=datetime.timedelta(days=7))."
            )
        object.__setattr__(self, "max_age", None if age is None else float(age))


@dataclass(frozen=True)
class Container:
    """Where a layer runs when deployed: image, Kubernetes-style resources and environment.

    ``cpu`` is cores (``4``, ``0.5``, ``"500m"``); ``memory`` is megabytes as a whole number
    (``2000``, the original library's spelling) or a Kubernetes quantity (``"4Gi"``).
    ``workdir`` is the working directory inside the image; ``command`` the command that runs
    laminar there (default: ``laminar``, or the compile options'). Values left as ``None`` come
    from the compile options.
    """

    image: str | None = None
    cpu: str | float | int | None = None
    memory: str | int | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    workdir: str | None = None
    command: str | None = None
    #: Names of secrets the layer's tasks see as environment variables of the same name
    #: (values come from the target's secret store, never from the flow file).
    secrets: Sequence[str] = ()
    #: GPUs each task needs (Kubernetes ``nvidia.com/gpu`` unless compiled otherwise).
    gpu: int | None = None
    #: Kubernetes node labels the tasks' pods must run on (``{"pool": "gpu"}``).
    node_selector: Mapping[str, str] = field(default_factory=dict)
    #: Kubernetes tolerations, as in a pod spec: ``{"key": ..., "operator": "Equal",
    #: "value": ..., "effect": "NoSchedule"}``.
    tolerations: Sequence[Mapping[str, Any]] = ()
    #: GitHub Actions runner labels for the layer's jobs (default: the compile options').
    runs_on: Sequence[str] = ()
    #: The Airflow queue (Celery workers) the layer's tasks go to.
    queue: str | None = None
    #: The Airflow pool whose slots the layer's tasks take: a cap the deployment sets on how
    #: many run at once across every DAG (a warehouse's connections, a GPU box).
    pool: str | None = None

    def __post_init__(self) -> None:
        check_container(self)
        check_placement(self)

    @property
    def cpu_quantity(self) -> str | None:
        """``cpu`` as a Kubernetes quantity string (``"2"``, ``"500m"``)."""
        return None if self.cpu is None else str(self.cpu)

    @property
    def memory_quantity(self) -> str | None:
        """``memory`` as a Kubernetes quantity string: megabytes as ``"2000M"``."""
        if isinstance(self.memory, int):
            return f"{self.memory}M"
        return self.memory

    @property
    def command_words(self) -> tuple[str, ...] | None:
        """``command`` split as a shell would (``"python -m laminar"`` is three words)."""
        import shlex

        return None if self.command is None else tuple(shlex.split(self.command))

    def __hash__(self) -> int:
        return hash(
            (self.image, self.cpu, self.memory, tuple(sorted(self.env.items())), self.workdir,
             self.command, self.secrets, self.gpu, tuple(sorted(self.node_selector.items())),
             tuple(tuple(sorted(t.items())) for t in self.tolerations), self.runs_on, self.queue,
             self.pool)
        )  # fmt: skip


def _seconds(name: str, value: object, *, minimum: float, meaning: str) -> None:
    """Refuse a ``Retry`` number that is not a finite real (``inf``, ``nan``, ``True``, "5")."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < minimum
    ):
        raise ConfigurationError(
            f"Retry({name}={value!r}) must be {meaning}, a finite number such as 5 or 0.5."
        )


def describe(value: Any) -> str:
    """A short description of a value for error messages."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
