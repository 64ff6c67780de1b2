"""Argo Workflows: one DAG template, one task and one container template per job.

What differs from the defaults is here; each job's pod is built in ``pods.py``, the resource
around the templates (kind, parameters, CronWorkflow) in ``resource.py``, a capped fan-out's
template in ``capped.py``, the field values in ``fields.py``, the task conditions in
``gates.py``.

A ``RUN`` job is a DAG task; a ``PLAN`` job's pod writes its leg count to a file Argo reads as
the output parameter ``legs``; the ``MAPPED`` job fans out with ``withSequence.count`` over it,
each pod getting its leg as the input parameter ``leg`` (the plan of a fan-out of any size is a
number, far under Argo's 256 KB output limit). Argo retries pods itself (``retryStrategy``).
A layer whose hooks decide its resources also gets, from its plan, each leg's resources per
try (``backends/sizing.py``), which the template's ``podSpecPatch`` picks per pod.

Branching: a job's gates (``Job.gates``) become the task's ``when:``, so Argo itself skips a
layer whose decider decided against it: the node shows ``Skipped`` and its dependants still
start (a Skipped task satisfies ``dependencies``). A ``when`` reads only outputs of tasks that
always run; the lowering sees to that, as Argo cannot resolve an output of a Skipped task.

Two template languages read a container's strings, and user text must stay inert in both
(see ``container_text``):

* Argo substitutes ``{{...}}`` anywhere in a template, in several passes, and has no escape
  for a literal ``{{`` (argoproj/argo-workflows#8253, #12634);
* Kubernetes expands ``$(VAR)`` and reduces ``$$`` to ``$`` in ``command``, ``args`` and
  ``env`` values.
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from laminar.backends.argo import spec as argo
from laminar.backends.argo.capped import capped_fan_out, capped_names
from laminar.backends.argo.fields import ENV_LBRACE, argo_text, container_text, pod_spec_patch
from laminar.backends.argo.gates import when
from laminar.backends.argo.options import ArgoOptions
from laminar.backends.argo.pods import Pods
from laminar.backends.argo.resource import ENTRYPOINT, resource
from laminar.backends.dialect import Dialect
from laminar.backends.document import Expression, to_yaml
from laminar.backends.jobs import Job, JobGraph
from laminar.backends.naming import NameRule
from laminar.backends.traits import Traits
from laminar.contract import ENV_LEG, ENV_RUN_STATUS, PlanFormat

#: The input parameter of a sized layer's legs: per leg and try, what its pod asks for.
RESOURCES = "resources"


class ArgoDialect(Dialect):
    target = "argo"
    description = "Argo Workflows: a Workflow, WorkflowTemplate or CronWorkflow"
    chaining = (
        "a last step whose resource template (action: create) makes a Workflow with "
        "workflowTemplateRef: the next WorkflowTemplate, and its arguments"
    )
    options_class = ArgoOptions
    TRAITS = Traits(
        # Kubernetes DNS-label style (lowercase kebab, at most 63) keeps pod and node names
        # readable and well under Argo's 128 characters for template and task names.
        name_rule=NameRule(allowed="a-z0-9-", max_length=63, lowercase=True, first="[a-z]"),
        reserved=(ENTRYPOINT,),
        # The leg count, for withSequence.count.
        plan_format=PlanFormat.COUNT,
        # One file per output (legs of each fan-out a pod plans, whether a Catch layer
        # finished), which Argo reads as an output parameter.
        output_path="/tmp/laminar/{kind}/{job}",
        # A plan that reads one layer that runs once is made in that layer's pod.
        fuse_plans=True,
        needs_image=True,
        # A layer's hooks decide its pods' resources: its plan writes them, podSpecPatch
        # reads them per leg and attempt.
        sized_pods=True,
    )
    # etcd keeps a Workflow object under about 1 MB, its status included.
    max_output_bytes: ClassVar[int | None] = 1_000_000
    output_limit = "the ~1 MB that etcd stores for a Workflow object"
    settings: ArgoOptions
    #: Mapped job id -> the DAG template that caps its fan-out (``ForEach(concurrency)``).
    capped_names: dict[str, str]

    @property
    def traits(self) -> Traits:
        gpu = self.settings.gpu_resource
        return replace(self.TRAITS, max_legs=self.settings.max_legs, gpu_resource=gpu)

    # -- one method per kind of job: (DAG task, template) ----------------------------------
    def dropped(self) -> dict[str, str]:
        return {
            "runs_on": "place pods with Container(node_selector=..., tolerations=...)",
            "queue": "place pods with Container(node_selector=..., tolerations=...)",
            "pool": self.NO_POOLS,
        }

    def run_job(self, graph: JobGraph, job: Job) -> tuple[argo.DAGTask, argo.Template]:
        """A DAG task; each output the job writes (the legs of fan-outs it plans, whether it
        finished) is an output parameter read from its file."""
        task = argo.DAGTask(job.id, job.id, dependencies=tuple(sorted(job.after)), when=when(job))
        outputs = tuple(
            argo.Parameter(output.name, value_from=argo.ValueFrom(output.path))
            for output in job.outputs
        )
        written = argo.Outputs(outputs) if outputs else None
        return task, self.pods.template(graph, job, outputs=written)

    #: A planning job is a DAG task like any other: its output is the legs it printed.
    plan_job = run_job

    def mapped_job(
        self, graph: JobGraph, job: Job
    ) -> tuple[argo.DAGTask, argo.Template, argo.Template] | tuple[argo.DAGTask, argo.Template]:
        """A DAG task fanned out with ``withSequence`` over the legs its plan printed; with
        ``ForEach(concurrency=N)``, the fan-out sits in a DAG template of its own whose
        ``parallelism`` caps it (Argo has no cap on one task's fan-out)."""
        name = graph.legs_of(job.id).name
        count = Expression(f"{{{{tasks.{job.plan}.outputs.parameters.{name}}}}}")
        leg = argo.EnvVar(ENV_LEG, Expression("{{inputs.parameters.leg}}"))
        sizes = graph.resources_of(job.id)
        inputs = (argo.Parameter("leg"), *((argo.Parameter(RESOURCES),) if sizes else ()))
        template = self.pods.template(graph, job, inputs=argo.Inputs(inputs), extra_env=(leg,))
        arguments = [argo.Parameter("leg", Expression("{{item}}"))]
        if sizes is not None:  # what each leg's pod asks for, as the plan decided
            planned = Expression(f"{{{{tasks.{job.plan}.outputs.parameters.{sizes.name}}}}}")
            arguments.append(argo.Parameter(RESOURCES, planned))
            patch = pod_spec_patch(RESOURCES, retried=job.retry is not None)
            template = replace(template, pod_spec_patch=patch)
        fan_out = argo.DAGTask(
            job.id,
            job.id,
            dependencies=job.after,
            when=when(job),
            with_sequence=argo.Sequence(count),
            arguments=argo.Arguments(tuple(arguments)),
        )
        if job.concurrency is None:
            return fan_out, template
        capped = self.capped_names[job.id]
        task, wrapper = capped_fan_out(fan_out, count, capped, job.concurrency)
        return task, wrapper, template

    @property
    def pods(self) -> Pods:
        """What builds each job's container template (``pods.py``) for these options."""
        return Pods(self.settings, self.options.datastore)

    # -- the resource -----------------------------------------------------------------------
    def render(self, graph: JobGraph) -> str:
        # The DAG template that caps a ForEach(concurrency=N) fan-out: a name no job has.
        self.capped_names = capped_names(graph, self.TRAITS.name_rule)
        tasks, templates = [], []
        for job in graph.jobs:
            task, *made = self.translate(graph, job)
            tasks.append(task)
            templates += made
        if graph.exit is not None:  # onExit: the flow's exit hooks, told how the run ended
            status = argo.EnvVar(ENV_RUN_STATUS, Expression("{{workflow.status}}"))
            templates.append(self.pods.template(graph, graph.exit, extra_env=(status,)))
        workflow = resource(self.settings, graph, tuple(tasks), tuple(templates))
        return to_yaml(workflow, comments=graph.header, text=argo_text)


#: What is imported from here: the dialect, its options, and how a container string is escaped.
__all__ = ["ENV_LBRACE", "ArgoDialect", "ArgoOptions", "container_text"]
