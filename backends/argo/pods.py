"""What a job's pod runs: its container template, and the env every pod gets.

A template holds the job's command and env (made inert for Argo's ``{{...}}`` and
Kubernetes' ``$(VAR)``: ``fields.container_text``), its image, resources, placement,
retries, time limit and the datastore's volume. Every pod also gets the execution id, the
run's inputs and logical date, the datastore and its credentials, which laminar sets itself:
a layer's ``Container(env=...)`` may not set them.
"""

from __future__ import annotations

from dataclasses import dataclass

from laminar.backends.argo import spec as argo
from laminar.backends.argo.datastore import datastore_url
from laminar.backends.argo.fields import (
    ENV_LBRACE,
    container_text,
    retry_strategy,
    whole_seconds,
)
from laminar.backends.argo.options import ArgoOptions
from laminar.backends.argo.resource import VOLUME, resource_kind
from laminar.backends.document import Expression
from laminar.backends.jobs import Job, JobGraph
from laminar.backends.kubernetes import quantities, toleration_fields
from laminar.contract import (
    ENV_ATTEMPT,
    ENV_DATASTORE,
    ENV_EXECUTION,
    ENV_INPUT_PREFIX,
    ENV_LOGICAL_DATE,
    ENV_NO_CACHE,
    ENV_SIGNING_KEY,
    NO_CACHE_SWITCH,
)
from laminar.errors import CompileError

#: Keys of the ``--s3-secret`` secret, each exposed as the env var of the same name.
S3_SECRET_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


@dataclass(frozen=True)
class Pods:
    """The pods of one compile: the target's options and the datastore every pod reaches."""

    settings: ArgoOptions
    datastore: str | None

    def template(
        self,
        graph: JobGraph,
        job: Job,
        *,
        inputs: argo.Inputs | None = None,
        outputs: argo.Outputs | None = None,
        extra_env: tuple[argo.EnvVar, ...] = (),
    ) -> argo.Template:
        """The container template of ``job``: its pod, with ``extra_env`` after what every
        pod gets (a leg's number, the run's status)."""
        assert job.image is not None  # needs_image: lowering refused jobs without one
        settings = self.settings
        command = tuple(container_text(part) for part in job.argv)
        env = self.container_env(graph, job, command, extra_env)
        resources = None
        if job.resources is not None:
            found = quantities(job.resources, settings.gpu_resource)
            resources = argo.ResourceRequirements(requests=found, limits=found)
        mounts: tuple[argo.VolumeMount, ...] = ()
        if settings.volume_claim is not None:
            mounts = (argo.VolumeMount(VOLUME, settings.mount_path.rstrip("/") or "/"),)
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
                image_pull_policy=settings.image_pull_policy,
                working_dir=None if job.workdir is None else container_text(job.workdir),
                command=command,
                env=env,
                resources=resources,
                volume_mounts=mounts,
            ),
        )

    def container_env(
        self,
        graph: JobGraph,
        job: Job,
        command: tuple[str, ...],
        extra_env: tuple[argo.EnvVar, ...],
    ) -> tuple[argo.EnvVar, ...]:
        """The container's env: the layer's own and its secrets, then what laminar sets
        (which the layer may not), the try number where Argo retries, and
        ``LAMINAR_LBRACE`` first when ``command`` or a value needs it."""
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
        return env

    def logical_date_env(self, graph: JobGraph) -> tuple[argo.EnvVar, ...]:
        """The run's logical date for ``LogicalDate()`` inputs: a CronWorkflow run's
        scheduled time, the creation time of any other."""
        if not graph.logical_dates:
            return ()
        scheduled = resource_kind(self.settings, graph) == "cron-workflow"
        when = "{{workflow.scheduledTime}}" if scheduled else "{{workflow.creationTimestamp}}"
        return (argo.EnvVar(ENV_LOGICAL_DATE, Expression(when)),)

    def secret_env(self, name: str) -> argo.EnvVar:
        """A layer's secret: the key of that name in the ``--env-secret`` Secret."""
        selector = argo.SecretKeySelector(self.settings.env_secret, name)
        return argo.EnvVar(name, value_from=argo.EnvVarSource(selector))

    def datastore_env(self, graph: JobGraph) -> tuple[argo.EnvVar, ...]:
        """The env every pod gets: the execution id, the inputs, the datastore and its
        credentials."""
        settings = self.settings
        env = [
            argo.EnvVar(ENV_EXECUTION, Expression("{{workflow.name}}")),
            *self.logical_date_env(graph),
            argo.EnvVar(ENV_DATASTORE, container_text(datastore_url(settings, self.datastore))),
        ]
        # Inputs travel base64-encoded: neither Kubernetes' $(VAR) expansion nor Argo's
        # repeated {{ }} substitution can then alter a value.
        for spec in graph.inputs:
            value = Expression(f"{{{{=sprig.b64enc(workflow.parameters.{spec.name})}}}}")
            env.append(argo.EnvVar(f"{ENV_INPUT_PREFIX}{spec.name}", value))
        if graph.cached:  # the run's switch (`argo submit -p laminar_no_cache=true`)
            switch = Expression(f"{{{{workflow.parameters.{NO_CACHE_SWITCH}}}}}")
            env.append(argo.EnvVar(ENV_NO_CACHE, switch))
        if settings.s3_endpoint:
            env.append(argo.EnvVar("AWS_ENDPOINT_URL", container_text(settings.s3_endpoint)))
        signing = settings.signing_key_secret
        if signing:
            selector = argo.SecretKeySelector(signing, ENV_SIGNING_KEY)
            env.append(argo.EnvVar(ENV_SIGNING_KEY, value_from=argo.EnvVarSource(selector)))
        secret = settings.s3_secret
        if secret:
            env += [
                argo.EnvVar(key, value_from=argo.EnvVarSource(argo.SecretKeySelector(secret, key)))
                for key in S3_SECRET_KEYS
            ]
        return tuple(env)
