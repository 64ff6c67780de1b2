"""Argo Workflows' resources as typed objects, named after Argo's own spec fields.

Only the fields laminar writes are declared. Field names are Argo's, in snake_case
(``retry_strategy`` is written ``retryStrategy``); a reader who knows Argo's spec recognises
every one. ``backends/document.py`` serialises them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from laminar.backends.document import Spec


@dataclass(frozen=True)
class SecretKeySelector(Spec):
    name: str
    key: str


@dataclass(frozen=True)
class EnvVarSource(Spec):
    secret_key_ref: SecretKeySelector


@dataclass(frozen=True)
class EnvVar(Spec):
    name: str
    value: str | None = None
    value_from: EnvVarSource | None = None


@dataclass(frozen=True)
class ResourceRequirements(Spec):
    requests: dict[str, str]
    limits: dict[str, str]


@dataclass(frozen=True)
class VolumeMount(Spec):
    name: str
    mount_path: str


@dataclass(frozen=True)
class Container(Spec):
    image: str
    image_pull_policy: str | None = None
    working_dir: str | None = None
    command: tuple[str, ...] = ()
    env: tuple[EnvVar, ...] = ()
    resources: ResourceRequirements | None = None
    volume_mounts: tuple[VolumeMount, ...] = ()


@dataclass(frozen=True)
class ValueFrom(Spec):
    path: str


@dataclass(frozen=True)
class Parameter(Spec):
    name: str
    value: str | None = None
    value_from: ValueFrom | None = None
    #: The allowed values (Argo's UI offers them as a list).
    enum: tuple[str, ...] = ()
    description: str | None = None


@dataclass(frozen=True)
class Inputs(Spec):
    parameters: tuple[Parameter, ...]


@dataclass(frozen=True)
class Outputs(Spec):
    parameters: tuple[Parameter, ...]


@dataclass(frozen=True)
class Arguments(Spec):
    parameters: tuple[Parameter, ...]


@dataclass(frozen=True)
class Backoff(Spec):
    #: A Go duration such as ``5s`` or ``1500ms``.
    duration: str
    #: IntOrString in Argo's schema; written as a string like ``limit``.
    factor: str


@dataclass(frozen=True)
class RetryStrategy(Spec):
    #: Retries after the first attempt (IntOrString).
    limit: str
    retry_policy: str = "Always"
    backoff: Backoff | None = None


@dataclass(frozen=True)
class Sequence(Spec):
    count: str


@dataclass(frozen=True)
class DAGTask(Spec):
    name: str
    template: str
    dependencies: tuple[str, ...] = ()
    #: A govaluate condition after ``{{...}}`` substitution; false: the task is Skipped.
    when: str | None = None
    with_sequence: Sequence | None = None
    arguments: Arguments | None = None


@dataclass(frozen=True)
class DAGTemplate(Spec):
    tasks: tuple[DAGTask, ...]


@dataclass(frozen=True)
class Toleration(Spec):
    key: str | None = None
    operator: str | None = None
    value: str | None = None
    effect: str | None = None
    toleration_seconds: int | None = None


@dataclass(frozen=True)
class Template(Spec):
    name: str
    active_deadline_seconds: int | None = None
    inputs: Inputs | None = None
    outputs: Outputs | None = None
    retry_strategy: RetryStrategy | None = None
    parallelism: int | None = None
    node_selector: dict[str, str] | None = None
    tolerations: tuple[Toleration, ...] = ()
    dag: DAGTemplate | None = None
    container: Container | None = None
    #: A patch Argo applies to each pod's spec when it creates the pod; an expression in it
    #: is evaluated per pod (``retries``: the attempt), so what the pod asks for may vary.
    pod_spec_patch: str | None = None


@dataclass(frozen=True)
class PersistentVolumeClaimVolumeSource(Spec):
    claim_name: str


@dataclass(frozen=True)
class Volume(Spec):
    name: str
    persistent_volume_claim: PersistentVolumeClaimVolumeSource


@dataclass(frozen=True)
class WorkflowMetadata(Spec):
    labels: dict[str, str]


@dataclass(frozen=True)
class WorkflowSpec(Spec):
    entrypoint: str
    arguments: Arguments | None = None
    workflow_metadata: WorkflowMetadata | None = None
    service_account_name: str | None = None
    active_deadline_seconds: int | None = None
    parallelism: int | None = None
    #: The template run once the workflow ends, whatever happened (exit hooks).
    on_exit: str | None = None
    volumes: tuple[Volume, ...] = ()
    templates: tuple[Template, ...] = ()


@dataclass(frozen=True)
class CronWorkflowSpec(Spec):
    schedules: tuple[str, ...]
    timezone: str | None = None
    #: ``Forbid``: a run does not start while the one before it runs.
    concurrency_policy: str | None = None
    #: How late a missed run may still start (Argo starts the last one missed).
    starting_deadline_seconds: int | None = None
    workflow_spec: WorkflowSpec | None = None


@dataclass(frozen=True)
class ObjectMeta(Spec):
    name: str | None = None
    generate_name: str | None = None
    namespace: str | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None


@dataclass(frozen=True)
class Resource(Spec):
    """A ``Workflow``, ``WorkflowTemplate`` (both with a ``WorkflowSpec``) or ``CronWorkflow``."""

    kind: str
    metadata: ObjectMeta
    spec: WorkflowSpec | CronWorkflowSpec
    api_version: str = "argoproj.io/v1alpha1"

    def fields(self) -> Iterator[tuple[str, Any]]:
        # Kubernetes' conventional order: apiVersion and kind first.
        yield "apiVersion", self.api_version
        yield "kind", self.kind
        yield "metadata", self.metadata
        yield "spec", self.spec
