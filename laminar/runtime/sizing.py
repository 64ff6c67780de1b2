"""What ``laminar plan --resources-output`` writes: the resources each leg's pod asks for on
each attempt, as the layer's ``@hooks.submission`` and ``@hooks.retry`` hooks decide them
(issue 25), for targets that size pods when they start them (Argo's ``podSpecPatch``, the
``SizedPodOperator`` of Airflow's Kubernetes DAGs).

The plan runs each task's submission hooks, then its retry hooks once per retry the layer's
``Retry`` allows: attempt ``k`` (1-based) gets what the hooks decided before it, as the task
itself replays them (``Runtime.resources``). A leg runs its tasks one after another in one
pod, so it asks for the largest of its tasks' values, attempt by attempt. The output is one
JSON list per leg of one object per attempt, Kubernetes quantities by resource name
(``[[{"cpu": "2", "memory": "2000M"}, ...], ...]``): small values the orchestrator carries.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation

from laminar.configurations.hooks import RETRY, SUBMISSION
from laminar.configurations.settings import LayerSettings
from laminar.errors import ConfigurationError
from laminar.ir import LayerSpec
from laminar.runtime.resources import adjustable
from laminar.runtime.task import Runtime
from laminar.store.execution import PlanRecord

#: One attempt's resources: Kubernetes resource name -> quantity.
Sizes = dict[str, str]

_SUFFIXES: dict[str, int | Decimal] = {
    "": 1, "m": Decimal("0.001"), "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
    "P": 10**15, "E": 10**18, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50,
    "Ei": 2**60,
}  # fmt: skip
_QUANTITY = re.compile(r"(\d+(?:\.\d+)?)([eE]\d+|[a-zA-Z]*)")


def quantity_value(text: str) -> Decimal:
    """The number a Kubernetes quantity (``"500m"``, ``"4Gi"``, ``"2000M"``) stands for."""
    match = _QUANTITY.fullmatch(text)
    try:
        if match is None:
            raise InvalidOperation
        number, suffix = Decimal(match.group(1)), match.group(2)
        if suffix[:1] in ("e", "E"):
            return number * Decimal(10) ** int(suffix[1:])
        return number * Decimal(_SUFFIXES[suffix])
    except (InvalidOperation, KeyError):
        raise ConfigurationError(f"{text!r} is not a Kubernetes quantity") from None


def requested(settings: LayerSettings, gpu_resource: str) -> Sizes:
    """The resources in ``settings`` as Kubernetes quantities (GPUs as ``gpu_resource``)."""
    container = settings.container
    if container is None:
        return {}
    found = {"cpu": container.cpu_quantity, "memory": container.memory_quantity}
    if container.gpu is not None:
        found[gpu_resource] = str(container.gpu)
    return {name: value for name, value in found.items() if value is not None}


def largest(sizes: list[Sizes]) -> Sizes:
    """Per resource, the largest quantity any of ``sizes`` asks for (what a pod running
    those tasks one after another needs)."""
    merged: Sizes = {}
    for one in sizes:
        for name, value in one.items():
            if name not in merged or quantity_value(value) > quantity_value(merged[name]):
                merged[name] = value
    return merged


def task_sizes(
    runtime: Runtime, spec: LayerSpec, index: int | None, plan: PlanRecord | None, gpu: str
) -> list[Sizes]:
    """Task ``index``'s resources on each attempt its ``Retry`` allows."""
    retry = spec.settings.retry
    attempts = retry.attempts if retry is not None else 1
    configuration = adjustable(spec.settings)
    runtime.run_resource_hooks(SUBMISSION, spec, index, plan, 1, configuration)
    sizes = [requested(configuration, gpu)]
    for number in range(1, attempts):  # before attempt number + 1
        runtime.run_resource_hooks(RETRY, spec, index, plan, number, configuration)
        sizes.append(requested(configuration, gpu))
    return sizes


def leg_sizes(runtime: Runtime, layer: str, record: PlanRecord, gpu: str) -> list[list[Sizes]]:
    """Per leg of ``record`` (the layer's committed plan), per attempt, what its pod asks for."""
    spec = runtime.ir.spec(layer)
    if not spec.is_foreach:
        return [task_sizes(runtime, spec, None, None, gpu) for _ in range(record.legs)]
    legs: list[list[Sizes]] = []
    for leg in range(record.legs):
        tasks = range(leg * record.count // record.legs, (leg + 1) * record.count // record.legs)
        per_task = [task_sizes(runtime, spec, index, record, gpu) for index in tasks]
        legs.append([largest(list(attempt)) for attempt in zip(*per_task, strict=True)])
    return legs


def render_sizes(legs: list[list[Sizes]]) -> str:
    """The ``--resources-output`` text: compact JSON, keys sorted (byte-stable)."""
    return json.dumps(legs, sort_keys=True, separators=(",", ":")) + "\n"


def render_sized(legs: list[list[Sizes]]) -> str:
    """``laminar plan --format sized``: each leg's number with its resources per attempt."""
    found = [{"leg": leg, "resources": sizes} for leg, sizes in enumerate(legs)]
    return json.dumps(found, sort_keys=True, separators=(",", ":")) + "\n"
