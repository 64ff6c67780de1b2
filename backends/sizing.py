"""Layers whose hooks size their pods (issue 25): which they are, and what their plans write.

A layer's ``@hooks.submission`` and ``@hooks.retry`` decide its tasks' resources. On a target
that sizes pods (``Traits.sized_pods``) the layer is planned, and its plan writes, per leg and
attempt, what each pod asks for (``laminar.runtime.sizing``): an output of its own
(``--resources-output``, ``--plan-resources`` where the job before plans it), or, where a
job's outputs share one file, inside the legs (``--format sized``). Decided here once for the
lowering; dialects read ``JobGraph.resources_of`` or the job's plan format.
"""

from __future__ import annotations

from laminar.backends.jobs import Output, OutputKind
from laminar.backends.traits import Traits
from laminar.contract import PlanFormat
from laminar.ir import LayerSpec


def sizes_pods(spec: LayerSpec, traits: Traits) -> bool:
    """Whether the layer's plan decides its pods' resources on this target."""
    return traits.sized_pods and spec.sized


def resources_output(traits: Traits, mapped: str, own: bool) -> Output:
    """Where the plan of the sized layer whose legs job ``mapped`` runs writes its pods'
    resources, named like its legs (``resources-<mapped>`` where not ``own``: a job that
    plans the fan-outs after it may plan several)."""
    kind = OutputKind.RESOURCES.value
    name = kind if own else f"{kind}-{mapped}"
    return Output(OutputKind.RESOURCES, name, traits.output(kind, mapped), feeds=(mapped,))


def plan_arguments(
    traits: Traits, fmt: list[str], sizes: Output | None
) -> tuple[list[str], tuple[str, ...]]:
    """A sized layer's ``laminar plan`` options: its format (``sized`` where the legs carry
    the resources) and what follows ``--output``."""
    if sizes is None:
        return [fmt[0], PlanFormat.SIZED.value, *fmt[2:]], (gpu_argument(traits),)
    return fmt, ("--resources-output", sizes.path, gpu_argument(traits))


def then_plan_arguments(traits: Traits, sized_plans: dict[str, Output]) -> list[str]:
    """``laminar task`` options for the sized layers it plans as it ends: layer -> output."""
    if not sized_plans:
        return []
    found = [f"--plan-resources={name}={output.path}" for name, output in sized_plans.items()]
    return [*found, gpu_argument(traits)]


def gpu_argument(traits: Traits) -> str:
    return f"--gpu-resource={traits.gpu_resource}"
