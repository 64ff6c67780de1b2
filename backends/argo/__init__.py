"""Argo Workflows: one DAG template, one task and one container template per job.

(Over 300 lines: this is one Workflow resource, its templates, the CronWorkflow around it and
its exit handler; the field values live in ``fields.py``, the task conditions in ``gates.py``.)

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

import re
import warnings
from dataclasses import replace
from typing import ClassVar

from laminar.backends.argo import spec as argo
from laminar.backends.argo.datastore import datastore_url
from laminar.backends.argo.fields import (
    ENV_LBRACE,
    argo_text,
    container_text,
    description,
    pod_spec_patch,
    retry_strategy,
    whole_seconds,
)
from laminar.backends.argo.gates import when
from laminar.backends.argo.options import KINDS, NAME_LIMITS, ArgoOptions
from laminar.backends.checks import check_schedulable
from laminar.backends.dialect import Dialect
from laminar.backends.document import Expression, to_yaml
from laminar.backends.jobs import Job, JobGraph, input_text
from laminar.backends.kubernetes import quantities, toleration_fields
from laminar.backends.naming import NameRule, assign_ids
from laminar.backends.traits import Traits
from laminar.contract import (
    ENV_ATTEMPT,
    ENV_DATASTORE,
    ENV_EXECUTION,
    ENV_INPUT_PREFIX,
    ENV_LEG,
    ENV_LOGICAL_DATE,
    ENV_NO_CACHE,
    ENV_RUN_STATUS,
    ENV_SIGNING_KEY,
    NO_CACHE_SWITCH,
    PlanFormat,
)
from laminar.errors import CompileError, CompileWarning

#: The DAG template (the workflow's entrypoint); reserved so no layer takes its name.
ENTRYPOINT = "main"
VOLUME = "laminar-datastore"
#: The input parameter of a sized layer's legs: per leg and try, what its pod asks for.
RESOURCES = "resources"
#: Keys of the ``--s3-secret`` secret, each exposed as the env var of the same name.
S3_SECRET_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


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
        # A ForEach layer whose only upstream runs once is planned in that upstream's pod.
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
        return task, self.template(graph, job, outputs=argo.Outputs(outputs) if outputs else None)

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
        template = self.template(graph, job, inputs=argo.Inputs(inputs), extra_env=(leg,))
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
            capped,
            inputs=argo.Inputs(tuple(argo.Parameter(p.name) for p in passed)),
            parallelism=job.concurrency,
            dag=argo.DAGTemplate((inner,)),
        )
        task = replace(
            fan_out,
            template=capped,
            with_sequence=None,
            arguments=argo.Arguments(tuple(passed)),
        )
        return task, wrapper, template

    def template(
        self,
        graph: JobGraph,
        job: Job,
        *,
        inputs: argo.Inputs | None = None,
        outputs: argo.Outputs | None = None,
        extra_env: tuple[argo.EnvVar, ...] = (),
    ) -> argo.Template:
        assert job.image is not None  # needs_image: lowering refused jobs without one
        command = tuple(container_text(part) for part in job.argv)
        env = (
            *(argo.EnvVar(key, container_text(value)) for key, value in job.env),
            *(self.secret_env(name) for name in job.secrets),
            *self.datastore_env(graph),
            *extra_env,
        )
        own = len(job.env) + len(job.secrets)
        clash = sorted({key for key, _ in job.env} & {v.name for v in env[own:]})
        if clash or any(key == ENV_LBRACE for key, _ in job.env):
            raise CompileError(
                f"Layer {job.layer} sets {', '.join(clash) or ENV_LBRACE} in "
                "Container(env=...), which laminar sets itself on Argo; remove it."
            )
        if job.retry is not None:  # Argo retries this pod: self.attempt is its try number
            env = (*env, argo.EnvVar(ENV_ATTEMPT, Expression("{{=asInt(retries) + 1}}")))
        texts = [*command, *(v.value or "" for v in env)]
        if any(f"$({ENV_LBRACE})" in text for text in texts):
            env = (argo.EnvVar(ENV_LBRACE, "{"), *env)  # Kubernetes expands in list order
        resources = None
        if job.resources is not None:
            found = quantities(job.resources, self.settings.gpu_resource)
            resources = argo.ResourceRequirements(requests=found, limits=found)
        mounts: tuple[argo.VolumeMount, ...] = ()
        if self.settings.volume_claim is not None:
            mounts = (argo.VolumeMount(VOLUME, self.settings.mount_path.rstrip("/") or "/"),)
        return argo.Template(
            name=job.id,
            # Per pod: each retry is a pod of its own, with the whole limit again.
            active_deadline_seconds=whole_seconds(job.timeout),
            inputs=inputs,
            outputs=outputs,
            retry_strategy=retry_strategy(job),
            node_selector=dict(job.placement.node_selector) or None,
            tolerations=tuple(
                argo.Toleration(**toleration_fields(toleration))
                for toleration in job.placement.tolerations
            ),
            container=argo.Container(
                image=job.image,
                image_pull_policy=self.settings.image_pull_policy,
                working_dir=None if job.workdir is None else container_text(job.workdir),
                command=command,
                env=env,
                resources=resources,
                volume_mounts=mounts,
            ),
        )

    def logical_date_env(self, graph: JobGraph) -> tuple[argo.EnvVar, ...]:
        """The run's logical date for ``LogicalDate()`` inputs: a CronWorkflow run's scheduled
        time, the creation time of any other."""
        if not graph.logical_dates:
            return ()
        scheduled = self.kind(graph) == "cron-workflow"
        when = "{{workflow.scheduledTime}}" if scheduled else "{{workflow.creationTimestamp}}"
        return (argo.EnvVar(ENV_LOGICAL_DATE, Expression(when)),)

    def secret_env(self, name: str) -> argo.EnvVar:
        """A layer's secret: the key of that name in the ``--env-secret`` Secret."""
        selector = argo.SecretKeySelector(self.settings.env_secret, name)
        return argo.EnvVar(name, value_from=argo.EnvVarSource(selector))

    def datastore_env(self, graph: JobGraph) -> tuple[argo.EnvVar, ...]:
        """The env every pod gets: the execution id, the inputs, the datastore and its
        credentials."""
        env = [
            argo.EnvVar(ENV_EXECUTION, Expression("{{workflow.name}}")),
            *self.logical_date_env(graph),
            argo.EnvVar(
                ENV_DATASTORE, container_text(datastore_url(self.settings, self.options.datastore))
            ),
        ]
        # Inputs travel base64-encoded: neither Kubernetes' $(VAR) expansion nor Argo's
        # repeated {{ }} substitution can then alter a value.
        for spec in graph.inputs:
            value = Expression(f"{{{{=sprig.b64enc(workflow.parameters.{spec.name})}}}}")
            env.append(argo.EnvVar(f"{ENV_INPUT_PREFIX}{spec.name}", value))
        if graph.cached:  # the run's switch (`argo submit -p laminar_no_cache=true`)
            switch = Expression(f"{{{{workflow.parameters.{NO_CACHE_SWITCH}}}}}")
            env.append(argo.EnvVar(ENV_NO_CACHE, switch))
        if self.settings.s3_endpoint:
            env.append(argo.EnvVar("AWS_ENDPOINT_URL", container_text(self.settings.s3_endpoint)))
        signing = self.settings.signing_key_secret
        if signing:
            selector = argo.SecretKeySelector(signing, ENV_SIGNING_KEY)
            env.append(argo.EnvVar(ENV_SIGNING_KEY, value_from=argo.EnvVarSource(selector)))
        secret = self.settings.s3_secret
        if secret:
            env += [
                argo.EnvVar(key, value_from=argo.EnvVarSource(argo.SecretKeySelector(secret, key)))
                for key in S3_SECRET_KEYS
            ]
        return tuple(env)

    # -- the resource -----------------------------------------------------------------------
    def arguments(self, graph: JobGraph) -> argo.Arguments | None:
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

    def render(self, graph: JobGraph) -> str:
        # The DAG template that caps a ForEach(concurrency=N) fan-out: a name no job has.
        capped = [job.id for job in graph.jobs if job.concurrency is not None]
        taken = [ENTRYPOINT, *(job.id for job in graph.jobs)]
        rule = self.TRAITS.name_rule
        names = assign_ids([f"{job}-capped" for job in capped], rule, reserved=taken)
        self.capped_names = {job: names[f"{job}-capped"] for job in capped}
        tasks, templates = [], []
        for job in graph.jobs:
            task, *made = self.translate(graph, job)
            tasks.append(task)
            templates += made
        if graph.exit is not None:  # onExit: the flow's exit hooks, told how the run ended
            status = argo.EnvVar(ENV_RUN_STATUS, Expression("{{workflow.status}}"))
            templates.append(self.template(graph, graph.exit, extra_env=(status,)))
        settings = self.settings
        kind = self.kind(graph)
        claim = settings.volume_claim
        labels = settings.labels()
        workflow = argo.WorkflowSpec(
            entrypoint=ENTRYPOINT,
            arguments=self.arguments(graph),
            workflow_metadata=None if kind == "workflow" else argo.WorkflowMetadata(labels),
            service_account_name=settings.service_account,
            active_deadline_seconds=whole_seconds(graph.timeout),
            on_exit=graph.exit.id if graph.exit is not None else None,
            parallelism=settings.parallelism,
            volumes=()
            if claim is None
            else (argo.Volume(VOLUME, argo.PersistentVolumeClaimVolumeSource(claim)),),
            templates=(
                argo.Template(ENTRYPOINT, dag=argo.DAGTemplate(tuple(tasks))),
                *templates,
            ),
        )
        name = self.resource_name(graph)
        generated = kind == "workflow"
        resource = argo.Resource(
            kind=KINDS[kind],
            metadata=argo.ObjectMeta(
                name=None if generated else name,
                generate_name=f"{name}-" if generated else None,
                namespace=settings.namespace,
                labels=labels,
                annotations=description(graph.description),
            ),
            spec=self.cron(graph, workflow) if kind == "cron-workflow" else workflow,
        )
        return to_yaml(resource, comments=graph.header, text=argo_text)

    def kind(self, graph: JobGraph) -> str:
        """The resource: ``--kind``, a CronWorkflow by default for a flow with a schedule."""
        kind: str = self.settings.kind
        if kind == "workflow" and graph.schedule is not None:
            return "cron-workflow"
        if kind == "cron-workflow" and not (self.settings.schedule or graph.schedule):
            raise CompileError(
                "--kind cron-workflow needs a schedule: Schedule('0 3 * * *') on the flow, or "
                "--schedule '0 3 * * *'."
            )
        return kind

    def cron(self, graph: JobGraph, workflow: argo.WorkflowSpec) -> argo.CronWorkflowSpec:
        """The CronWorkflow: ``--schedule`` (which overrides the flow's) or the flow's
        ``Schedule``, its timezone, one run at a time for ``max_active_runs=1``, and a day
        for a missed run to start when it catches up."""
        schedule = graph.schedule
        crons = tuple(self.settings.schedule) or ((schedule.cron,) if schedule else ())
        check_schedulable(graph.flow, graph.inputs, f"schedule {crons[0]!r}")
        if graph.max_active_runs is not None and graph.max_active_runs > 1:
            warnings.warn(
                f"Flow {graph.flow}: Argo cannot cap a CronWorkflow at {graph.max_active_runs} "
                "runs at once (only at one: concurrencyPolicy Forbid); runs may overlap. Use "
                "max_active_runs=1, or --parallelism to cap pods.",
                CompileWarning,
                stacklevel=2,
            )
        return argo.CronWorkflowSpec(
            schedules=crons,
            timezone=schedule.timezone if schedule else None,
            concurrency_policy="Forbid" if graph.max_active_runs == 1 else None,
            starting_deadline_seconds=86400 if schedule and schedule.catchup else None,
            workflow_spec=workflow,
        )

    def resource_name(self, graph: JobGraph) -> str:
        if self.settings.name is not None:
            return str(self.settings.name)
        limit = NAME_LIMITS[self.kind(graph)]
        rule = NameRule(allowed="a-z0-9-", max_length=limit, lowercase=True, first="[a-z]")
        return assign_ids([graph.flow], rule)[graph.flow]
