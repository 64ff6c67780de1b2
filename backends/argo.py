"""Argo Workflows: one DAG template, one task per layer, one container template per task.

The template ``argo.yaml.j2`` mirrors Argo's own spec; this module only resolves what the
template needs (names, datastore wiring, containers) and validates options against Argo's and
Kubernetes' limits, so that a bad value fails at compile time instead of at submission.

Two template languages read the container strings of the output, and user text must stay
inert in both (see ``container_text``):

* Argo substitutes ``{{...}}`` anywhere in a template, in several passes, and has no escape
  for a literal ``{{`` (argoproj/argo-workflows#8253, #12634);
* Kubernetes expands ``$(VAR)`` and reduces ``$$`` to ``$`` in ``command``, ``args`` and
  ``env`` values.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from typing import Any, ClassVar

from laminar.backends.base import (
    ENV_DATASTORE,
    ENV_EXECUTION,
    ENV_LEG,
    Backend,
    CompileOptions,
    Plan,
    Step,
)
from laminar.backends.naming import NameRule, assign_ids
from laminar.errors import ConfigurationError

#: The DAG template (the workflow's entrypoint); reserved so no layer takes its name.
ENTRYPOINT = "main"
#: Where a planning pod writes its leg count; Argo reads it as an output parameter.
LEGS_PATH = "/tmp/laminar/legs"
#: Name of the env var that holds ``{`` (see ``container_text``).
ENV_LBRACE = "LAMINAR_LBRACE"
VOLUME = "laminar-datastore"
DEFAULT_MOUNT = "/mnt/laminar"
KINDS = {
    "workflow": "Workflow",
    "workflow-template": "WorkflowTemplate",
    "cron-workflow": "CronWorkflow",
}
#: metadata.name limits: a Workflow's generateName prefix (Kubernetes appends 5 characters
#: to at most 58), a CronWorkflow (Argo appends an 11-character timestamp), a template's
#: name (copied into a 63-character label).
NAME_LIMITS = {"workflow": 57, "workflow-template": 63, "cron-workflow": 52}
#: Keys of the ``--s3-secret`` secret, each exposed as the env var of the same name.
S3_SECRET_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")

#: ``laminar compile --target argo`` options; each ``dest`` is ``argo_`` + the flag's name.
OPTIONS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("--kind", {"choices": sorted(KINDS), "default": "workflow",
                "help": "the resource to generate (default: workflow)"}),
    ("--schedule", {"action": "append", "metavar": "CRON",
                    "help": "cron schedule of a cron-workflow (repeatable)"}),
    ("--name", {"help": "metadata.name (generateName prefix of a workflow); "
                "default: the flow's name in kebab case"}),
    ("--namespace", {"help": "metadata.namespace"}),
    ("--service-account", {"help": "the pods' Kubernetes service account"}),
    ("--parallelism", {"type": int, "metavar": "N", "help": "at most N pods at once"}),
    ("--image-pull-policy", {"choices": PULL_POLICIES}),
    ("--label", {"action": "append", "metavar": "KEY=VALUE",
                 "help": "label of the resource and its workflows (repeatable)"}),
    ("--s3-secret", {"metavar": "SECRET",
                     "help": "Kubernetes secret with keys AWS_ACCESS_KEY_ID and "
                     "AWS_SECRET_ACCESS_KEY (default: the pods' own identity)"}),
    ("--s3-endpoint", {"metavar": "URL", "help": "endpoint of an S3-compatible store"}),
    ("--volume-claim", {"metavar": "PVC",
                        "help": "PersistentVolumeClaim holding a file:// datastore"}),
    ("--mount-path", {"metavar": "PATH",
                      "help": f"where --volume-claim is mounted (default: {DEFAULT_MOUNT})"}),
    ("--max-legs", {"type": int, "metavar": "N",
                    "help": "at most N pods per ForEach layer, each running a batch of "
                    "tasks (default: one pod per task)"}),
)  # fmt: skip

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")


def container_text(value: str) -> str:
    """``value`` for a container's command or env, arriving in the process unchanged.

    ``$`` is doubled (Kubernetes turns ``$$`` back into ``$``, so ``$(HOME)`` stays literal).
    Argo cannot escape ``{{``, so the second brace of each pair is written as ``$(LAMINAR_LBRACE)``,
    an env var holding ``{`` that Kubernetes expands after Argo has finished: the text Argo
    sees has no ``{{`` and the process sees the original.
    """
    text = value.replace("$", "$$")
    return re.sub(r"(?<=\{)\{", f"$({ENV_LBRACE})", text)


@dataclass(frozen=True)
class EnvVar:
    name: str
    value: str | None = None
    #: ``(secret name, key)`` for a ``secretKeyRef``.
    secret: tuple[str, str] | None = None


@dataclass(frozen=True)
class RetryStrategy:
    """``Retry`` in Argo's terms: ``limit`` counts retries, not attempts."""

    limit: int
    #: A Go duration such as ``1s`` or ``1500ms``; ``None`` retries at once.
    duration: str | None
    factor: int


@dataclass(frozen=True)
class ArgoTemplate:
    """One container template: a layer's task or a ForEach layer's planning step."""

    name: str
    image: str
    command: tuple[str, ...]
    env: tuple[EnvVar, ...]
    resources: tuple[tuple[str, str], ...]
    retry: RetryStrategy | None
    #: The ``leg`` input parameter of a ForEach layer's task.
    leg_input: bool = False
    #: The ``legs`` output parameter of a planning step.
    legs_output: bool = False


@dataclass(frozen=True)
class ArgoTask:
    """One DAG task; ``plan`` is set on a ForEach layer's task (the planning task's name)."""

    name: str
    dependencies: tuple[str, ...]
    plan: str | None = None


class ArgoBackend(Backend):
    target: ClassVar[str] = "argo"
    # etcd keeps a Workflow object under about 1 MB, its status included; the spec alone
    # must leave room for that.
    max_output_bytes: ClassVar[int | None] = 1_000_000
    output_limit: ClassVar[str] = "the ~1 MB that etcd stores for a Workflow object"
    description: ClassVar[str] = "Argo Workflows: a Workflow, WorkflowTemplate or CronWorkflow"
    # Kubernetes DNS-label style (lowercase kebab, at most 63) keeps pod and node names
    # readable and well under Argo's 128 characters for template and task names.
    rule: ClassVar[NameRule] = NameRule(
        allowed="a-z0-9-", max_length=63, lowercase=True, first="[a-z]", prefix="x"
    )
    template: ClassVar[str] = "argo.yaml.j2"
    reserved: ClassVar[tuple[str, ...]] = (ENTRYPOINT,)

    @classmethod
    def add_arguments(cls, group: argparse._ArgumentGroup) -> None:
        for flag, settings in OPTIONS:
            group.add_argument(flag, dest="argo_" + flag[2:].replace("-", "_"), **settings)

    def context(self, plan: Plan, options: CompileOptions) -> dict[str, Any]:
        kind = _choice(options, "argo_kind", "--kind", sorted(KINDS), "workflow")
        schedules = [str(s) for s in options.get("argo_schedule", [])]
        if kind == "cron-workflow" and not schedules:
            raise ConfigurationError(
                "--kind cron-workflow needs --schedule, for example --schedule '0 3 * * *'."
            )
        if schedules and kind != "cron-workflow":
            raise ConfigurationError("--schedule only applies to --kind cron-workflow.")
        for schedule in schedules:
            if len(schedule.split()) not in (5, 6) or "\n" in schedule or "{{" in schedule:
                raise ConfigurationError(
                    f"--schedule {schedule!r} is not a cron expression such as '0 3 * * *'."
                )
        max_legs = _positive(options, "argo_max_legs", "--max-legs")
        env, volume = _datastore_env(options)
        templates: list[ArgoTemplate] = []
        tasks: list[ArgoTask] = []
        for step in plan.steps:
            tasks.extend(_tasks(step))
            templates.extend(_templates(step, options, env, max_legs))
        context = super().context(plan, options)
        context.update(
            header=list(plan.header),
            kind=KINDS[kind],
            name=_name(plan, options, kind),
            generate_name=kind == "workflow",
            namespace=_k8s_name(options, "argo_namespace", "--namespace", _DNS_LABEL, 63),
            labels=_labels(options),
            schedules=schedules,
            entrypoint=ENTRYPOINT,
            service_account=_k8s_name(
                options, "argo_service_account", "--service-account", _DNS_SUBDOMAIN, 253
            ),
            parallelism=_positive(options, "argo_parallelism", "--parallelism"),
            pull_policy=_choice(
                options, "argo_image_pull_policy", "--image-pull-policy", PULL_POLICIES, None
            ),
            volume=volume,
            tasks=tasks,
            templates=templates,
            legs_path=LEGS_PATH,
        )
        return context


def _tasks(step: Step) -> list[ArgoTask]:
    if step.plan_id is None:
        return [ArgoTask(step.id, tuple(sorted(step.upstream)))]
    return [
        ArgoTask(step.plan_id, tuple(sorted(step.upstream))),
        ArgoTask(step.id, (step.plan_id,), plan=step.plan_id),
    ]


def _templates(
    step: Step, options: CompileOptions, base_env: list[EnvVar], max_legs: int | None
) -> list[ArgoTemplate]:
    container = step.spec.container
    image = (container.image if container else None) or options.image
    if not image:
        raise ConfigurationError(
            f"Layer {step.name} has no image to run in: pass --image IMAGE, or set "
            f"Container(image=...) on the layer ({step.spec.source})."
        )
    if "{{" in image or any(c.isspace() for c in image):
        raise ConfigurationError(f"Layer {step.name}: {image!r} is not an image reference.")
    user_env = dict(container.env) if container else {}
    clash = sorted(set(user_env) & ({ENV_LBRACE, ENV_LEG} | {v.name for v in base_env}))
    if clash:
        raise ConfigurationError(
            f"Layer {step.name} sets {', '.join(clash)} in Container(env=...), which laminar "
            "sets itself on Argo; remove it from the layer."
        )
    env = [EnvVar(k, container_text(v)) for k, v in sorted(user_env.items())] + base_env
    resources: list[tuple[str, str]] = []
    if container and container.cpu_quantity:
        resources.append(("cpu", container.cpu_quantity))
    if container and container.memory:
        resources.append(("memory", container.memory))
    command = tuple(container_text(a) for a in step.task_argv)
    retry = _retry(step)
    if step.plan_argv is None or step.plan_id is None:
        return [
            ArgoTemplate(step.id, image, command, _lbrace(env, command), tuple(resources), retry)
        ]
    plan_argv = [*step.plan_argv, "--format", "count", "--output", LEGS_PATH]
    if max_legs is not None:
        plan_argv += ["--max-legs", str(max_legs)]
    plan_command = tuple(container_text(a) for a in plan_argv)
    leg_env = [*env, EnvVar(ENV_LEG, "{{inputs.parameters.leg}}")]
    return [
        ArgoTemplate(
            step.plan_id,
            image,
            plan_command,
            _lbrace(env, plan_command),
            (),
            retry,
            legs_output=True,
        ),
        ArgoTemplate(
            step.id,
            image,
            command,
            _lbrace(leg_env, command),
            tuple(resources),
            retry,
            leg_input=True,
        ),
    ]


def _retry(step: Step) -> RetryStrategy | None:
    retry = step.spec.retry
    if retry is None or retry.attempts == 1:
        return None
    if float(retry.backoff) != int(retry.backoff):
        raise ConfigurationError(
            f"Layer {step.name} has Retry(backoff={retry.backoff!r}), but Argo's backoff "
            "factor is a whole number; use backoff=1 (a fixed delay) or 2, 3, ..."
        )
    delay = float(retry.delay)
    duration = None
    if delay > 0:
        duration = f"{int(delay)}s" if delay == int(delay) else f"{max(1, round(delay * 1000))}ms"
    return RetryStrategy(retry.attempts - 1, duration, int(retry.backoff))


def _lbrace(env: list[EnvVar], command: tuple[str, ...]) -> tuple[EnvVar, ...]:
    """Prepend ``LAMINAR_LBRACE`` when a value needs it (Kubernetes expands in list order)."""
    texts = [*command, *(v.value or "" for v in env)]
    if any(f"$({ENV_LBRACE})" in t for t in texts):
        return (EnvVar(ENV_LBRACE, "{"), *env)
    return tuple(env)


def _datastore_env(options: CompileOptions) -> tuple[list[EnvVar], dict[str, str] | None]:
    """The env every pod gets, and the volume holding a ``file://`` datastore (if any)."""
    claim = _k8s_name(options, "argo_volume_claim", "--volume-claim", _DNS_SUBDOMAIN, 253)
    secret = _k8s_name(options, "argo_s3_secret", "--s3-secret", _DNS_SUBDOMAIN, 253)
    endpoint = options.get("argo_s3_endpoint")
    mount = str(options.get("argo_mount_path", DEFAULT_MOUNT)).rstrip("/") or "/"
    url = options.datastore
    scheme = url.split("://", 1)[0] if url and "://" in url else None
    volume = None
    if claim is not None:
        if not mount.startswith("/") or "{{" in mount or "\n" in mount:
            raise ConfigurationError(f"--mount-path {mount!r} must be an absolute path.")
        path = url[len("file://") :] if url and scheme == "file" else url
        if path is None:
            path = mount
        if scheme not in (None, "file") or not (path == mount or path.startswith(mount + "/")):
            raise ConfigurationError(
                f"--volume-claim {claim} is mounted at {mount}, so --datastore must be a "
                f"path under it, such as file://{mount}/store (got {url!r})."
            )
        url = f"file://{path}"
        volume = {"claim": claim, "mount": mount, "name": VOLUME}
    elif url is None:
        raise ConfigurationError(
            "Argo pods need a datastore they can all reach: pass --datastore s3://BUCKET/PREFIX "
            "(with --s3-secret SECRET), or --volume-claim PVC for a file:// datastore."
        )
    elif scheme in (None, "file"):
        raise ConfigurationError(
            f"--datastore {url!r} is a local path, which Argo pods cannot see: use "
            "s3://BUCKET/PREFIX, or mount a volume with --volume-claim PVC."
        )
    if (secret or endpoint) and scheme != "s3":
        raise ConfigurationError("--s3-secret and --s3-endpoint need an s3:// --datastore.")
    env = [
        EnvVar(ENV_EXECUTION, "{{workflow.name}}"),
        EnvVar(ENV_DATASTORE, container_text(url)),
    ]
    if endpoint:
        env.append(EnvVar("AWS_ENDPOINT_URL", container_text(str(endpoint))))
    if secret:
        env += [EnvVar(key, secret=(secret, key)) for key in S3_SECRET_KEYS]
    return env, volume


def _name(plan: Plan, options: CompileOptions, kind: str) -> str:
    limit = NAME_LIMITS[kind]
    given = options.get("argo_name")
    if given is None:
        rule = NameRule(allowed="a-z0-9-", max_length=limit, lowercase=True, first="[a-z]")
        return assign_ids([plan.flow], rule)[plan.flow]
    name = str(given)
    if len(name) > limit or not _DNS_LABEL.match(name):
        raise ConfigurationError(
            f"--name {name!r}: a {kind} name is lowercase letters, digits and '-', starting "
            f"and ending with a letter or digit, at most {limit} characters."
        )
    return name


def _labels(options: CompileOptions) -> list[tuple[str, str]]:
    labels = {"app.kubernetes.io/managed-by": "laminar"}
    for item in options.get("argo_label", []):
        key, sep, value = str(item).partition("=")
        prefix, _, name = key.rpartition("/")
        valid = (
            sep
            and len(name) <= 63
            and _LABEL_NAME.match(name)
            and (not prefix or (len(prefix) <= 253 and _DNS_SUBDOMAIN.match(prefix)))
            and (value == "" or (len(value) <= 63 and _LABEL_NAME.match(value)))
        )
        if not valid:
            raise ConfigurationError(
                f"--label {item!r} is not a Kubernetes label: KEY=VALUE, where VALUE is at "
                "most 63 letters, digits, '-', '_' or '.' (starting and ending alphanumeric) "
                "and KEY is the same with an optional DNS prefix/."
            )
        labels[key] = value
    return sorted(labels.items())


def _k8s_name(
    options: CompileOptions, dest: str, flag: str, pattern: re.Pattern[str], limit: int
) -> str | None:
    value = options.get(dest)
    if value is None:
        return None
    text = str(value)
    if len(text) > limit or not pattern.match(text):
        raise ConfigurationError(
            f"{flag} {text!r} is not a Kubernetes name: lowercase letters, digits and '-'"
            f"{'' if pattern is _DNS_LABEL else ' or .'}, starting and ending alphanumeric, "
            f"at most {limit} characters."
        )
    return text


def _positive(options: CompileOptions, dest: str, flag: str) -> int | None:
    value = options.get(dest)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(f"{flag} {value!r} must be a whole number of at least 1.")
    return value


def _choice(
    options: CompileOptions, dest: str, flag: str, choices: Any, default: str | None
) -> Any:
    value = options.get(dest, default)
    if value is not None and value not in choices:
        raise ConfigurationError(f"{flag} {value!r} must be one of: {', '.join(choices)}.")
    return value
