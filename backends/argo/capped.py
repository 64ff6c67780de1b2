"""``ForEach(concurrency=N)`` on Argo: a capped fan-out sits in a DAG template of its own.

Argo has no cap on one task's fan-out, only on a template's: the mapped task moves into a
DAG template whose ``parallelism`` is the cap, and the task in the main DAG calls that
template, handing it the plan's outputs as inputs for each leg.
"""

from __future__ import annotations

from dataclasses import replace

from laminar.backends.argo import spec as argo
from laminar.backends.argo.resource import ENTRYPOINT
from laminar.backends.document import Expression
from laminar.backends.jobs import JobGraph
from laminar.backends.naming import NameRule, assign_ids


def capped_names(graph: JobGraph, rule: NameRule) -> dict[str, str]:
    """Mapped job id -> the DAG template that caps its fan-out: a name no job has."""
    capped = [job.id for job in graph.jobs if job.concurrency is not None]
    taken = [ENTRYPOINT, *(job.id for job in graph.jobs)]
    names = assign_ids([f"{job}-capped" for job in capped], rule, reserved=taken)
    return {job: names[f"{job}-capped"] for job in capped}


def capped_fan_out(
    fan_out: argo.DAGTask, count: Expression, name: str, concurrency: int
) -> tuple[argo.DAGTask, argo.Template]:
    """``fan_out`` (a task with ``withSequence``, its arguments the leg and what the plan
    decided for it) as a task calling template ``name``, and that template: a DAG of the
    fan-out over ``count`` legs, at most ``concurrency`` at once."""
    assert fan_out.arguments is not None  # every leg gets its number
    arguments = fan_out.arguments.parameters
    # The wrapper takes the plan's outputs as inputs and hands them to each leg.
    passed = [argo.Parameter("legs", count), *arguments[1:]]
    relayed = tuple(
        replace(p, value=Expression(f"{{{{inputs.parameters.{p.name}}}}}")) for p in passed[1:]
    )
    inner = replace(
        fan_out,
        dependencies=(),
        when=None,
        with_sequence=argo.Sequence(Expression("{{inputs.parameters.legs}}")),
        arguments=argo.Arguments((arguments[0], *relayed)),
    )
    wrapper = argo.Template(
        name,
        inputs=argo.Inputs(tuple(argo.Parameter(p.name) for p in passed)),
        parallelism=concurrency,
        dag=argo.DAGTemplate((inner,)),
    )
    task = replace(
        fan_out,
        template=name,
        with_sequence=None,
        arguments=argo.Arguments(tuple(passed)),
    )
    return task, wrapper
