"""The Argo resource around the jobs' templates: a Workflow, WorkflowTemplate or CronWorkflow.

Which kind (``--kind``, a CronWorkflow for a flow with a ``Schedule``), its name, the
workflow's parameters (the flow's inputs, the switch that ignores the cache), its schedule,
and the ``WorkflowSpec`` holding the DAG template and every job's template.
"""

from __future__ import annotations

import re
import warnings

from laminar.backends.argo import spec as argo
from laminar.backends.argo.fields import description, whole_seconds
from laminar.backends.argo.options import KINDS, NAME_LIMITS, ArgoOptions
from laminar.backends.checks import check_schedulable
from laminar.backends.jobs import JobGraph, input_text
from laminar.backends.naming import NameRule, assign_ids
from laminar.contract import NO_CACHE_SWITCH
from laminar.errors import CompileError, CompileWarning

#: The DAG template (the workflow's entrypoint); reserved so no layer takes its name.
ENTRYPOINT = "main"
#: The volume of ``--volume-claim``, mounted in every pod.
VOLUME = "laminar-datastore"


def resource(
    settings: ArgoOptions,
    graph: JobGraph,
    tasks: tuple[argo.DAGTask, ...],
    templates: tuple[argo.Template, ...],
) -> argo.Resource:
    """The resource ``--kind`` (or the flow's ``Schedule``) asks for: the DAG template of
    ``tasks``, then ``templates``, under the workflow's settings."""
    kind = resource_kind(settings, graph)
    claim = settings.volume_claim
    labels = settings.labels()
    workflow = argo.WorkflowSpec(
        entrypoint=ENTRYPOINT,
        arguments=arguments(graph),
        workflow_metadata=None if kind == "workflow" else argo.WorkflowMetadata(labels),
        service_account_name=settings.service_account,
        active_deadline_seconds=whole_seconds(graph.timeout),
        on_exit=graph.exit.id if graph.exit is not None else None,
        parallelism=settings.parallelism,
        volumes=()
        if claim is None
        else (argo.Volume(VOLUME, argo.PersistentVolumeClaimVolumeSource(claim)),),
        templates=(argo.Template(ENTRYPOINT, dag=argo.DAGTemplate(tasks)), *templates),
    )
    name = resource_name(settings, graph)
    generated = kind == "workflow"
    return argo.Resource(
        kind=KINDS[kind],
        metadata=argo.ObjectMeta(
            name=None if generated else name,
            generate_name=f"{name}-" if generated else None,
            namespace=settings.namespace,
            labels=labels,
            annotations=description(graph.description),
        ),
        spec=cron(settings, graph, workflow) if kind == "cron-workflow" else workflow,
    )


def arguments(graph: JobGraph) -> argo.Arguments | None:
    """The flow's inputs as the workflow's parameters (``argo submit -p sample=500``), and
    the switch that ignores the cache when a layer is cached (not an input)."""
    parameters = []
    for spec in graph.inputs:
        if re.fullmatch(r"[-a-zA-Z0-9_]+", spec.name) is None:
            raise CompileError(
                f"Input {spec.name!r} cannot be an Argo parameter name (letters, digits, "
                "'-' and '_'); rename it."
            )
        parameters.append(
            argo.Parameter(
                spec.name,
                value=None if spec.required else input_text(spec.default),
                enum=tuple(input_text(choice) for choice in spec.choices),
                description=spec.description.replace("{{", "{ {") or None,
            )
        )
    if graph.cached:
        parameters.append(
            argo.Parameter(
                NO_CACHE_SWITCH,
                value="false",
                enum=("false", "true"),
                description="true: run every task, serving none from the cache",
            )
        )
    return argo.Arguments(tuple(parameters)) if parameters else None


def resource_kind(settings: ArgoOptions, graph: JobGraph) -> str:
    """The resource: ``--kind``, a CronWorkflow by default for a flow with a schedule."""
    kind: str = settings.kind
    if kind == "workflow" and graph.schedule is not None:
        return "cron-workflow"
    if kind == "cron-workflow" and not (settings.schedule or graph.schedule):
        raise CompileError(
            "--kind cron-workflow needs a schedule: Schedule('0 3 * * *') on the flow, or "
            "--schedule '0 3 * * *'."
        )
    return kind


def cron(
    settings: ArgoOptions, graph: JobGraph, workflow: argo.WorkflowSpec
) -> argo.CronWorkflowSpec:
    """The CronWorkflow: ``--schedule`` (which overrides the flow's) or the flow's
    ``Schedule``, its timezone, one run at a time for ``max_active_runs=1``, and a day
    for a missed run to start when it catches up."""
    schedule = graph.schedule
    crons = tuple(settings.schedule) or ((schedule.cron,) if schedule else ())
    check_schedulable(graph.flow, graph.inputs, f"schedule {crons[0]!r}")
    if graph.max_active_runs is not None and graph.max_active_runs > 1:
        warnings.warn(
            f"Flow {graph.flow}: Argo cannot cap a CronWorkflow at {graph.max_active_runs} "
            "runs at once (only at one: concurrencyPolicy Forbid); runs may overlap. Use "
            "max_active_runs=1, or --parallelism to cap pods.",
            CompileWarning,
            stacklevel=3,
        )
    return argo.CronWorkflowSpec(
        schedules=crons,
        timezone=schedule.timezone if schedule else None,
        concurrency_policy="Forbid" if graph.max_active_runs == 1 else None,
        starting_deadline_seconds=86400 if schedule and schedule.catchup else None,
        workflow_spec=workflow,
    )


def resource_name(settings: ArgoOptions, graph: JobGraph) -> str:
    """``--name``, else the flow's name as a Kubernetes name within the kind's limit."""
    if settings.name is not None:
        return str(settings.name)
    limit = NAME_LIMITS[resource_kind(settings, graph)]
    rule = NameRule(allowed="a-z0-9-", max_length=limit, lowercase=True, first="[a-z]")
    return assign_ids([graph.flow], rule)[graph.flow]
