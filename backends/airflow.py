"""Apache Airflow: one DAG file per flow, one task per layer, dynamic task mapping for ForEach.

What differs from the other targets, and why:

* Airflow imports every DAG file again and again (scheduler, DAG processor, each task), so the
  generated file imports only Airflow and the standard library: never laminar or the user's
  flow. Each task runs the runtime shim in a subprocess.
* ``--operator python`` (the default) makes each task a ``PythonOperator`` whose callable
  runs ``python -m laminar ...`` with the worker's own interpreter (``sys.executable``), where
  laminar and the flow's code are installed. A Python callable rather than a ``BashOperator``
  because: a planning task returns a real list through XCom (BashOperator pushes a string);
  run-time values (run id, leg) travel as environment variables without any shell quoting; and
  the shim commands sit in a module-level table that Airflow never renders with Jinja, so a
  ``{{`` in a path or an env value stays literal. A plain operator rather than TaskFlow's
  ``@task`` because it parses twice as fast (bench/airflow_parse.py). ``--operator kubernetes``
  makes each task a
  ``KubernetesPodOperator`` running the shim in ``--image``, with ``Container`` resources; its
  templated fields get user strings wrapped in ``literal()`` for the same reason.
* A ForEach layer ``L`` gets a planning task ``L-plan`` running ``laminar plan --format list``;
  it returns the leg numbers (small integers) and ``L`` is mapped over them with ``expand``.
  ``--max-legs`` keeps the list within ``[core] max_map_length`` (``--max-map-length``), the
  shim batching tasks into legs, so a fan-out of any size runs.
* An empty mapped input marks the mapped task *skipped*, and Airflow's default trigger rule
  (``all_success``) would skip everything downstream. Every task uses ``none_failed``
  instead: it runs when no upstream failed, so a skipped (empty) fan-out lets the flow go on,
  while a failure still marks dependants ``upstream_failed`` and fails the run.
* The Airflow run id is the execution id: clearing a failed task and re-running it resumes
  from the committed results.
"""

from __future__ import annotations

import argparse
import datetime
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

OPERATORS = ("python", "kubernetes")
DEFAULT_START_DATE = "2024-01-01"
#: Airflow's own default for ``[core] max_map_length``.
DEFAULT_MAX_MAP_LENGTH = 1024
#: Where a KubernetesPodOperator's container writes its XCom (read by the xcom sidecar).
K8S_XCOM_PATH = "/airflow/xcom/return.json"
#: Variables the generated file sets itself; a layer's ``Container(env=...)`` may not.
_RESERVED_ENV = (ENV_EXECUTION, ENV_DATASTORE, ENV_LEG)

#: ``laminar compile --target airflow`` options; each ``dest`` is ``airflow_`` + the flag's name.
OPTIONS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("--dag-id", {"help": "the DAG's id (default: the flow's class name)"}),
    ("--schedule", {"metavar": "CRON", "help": "cron expression or preset such as @daily "
                    "(default: none, runs are triggered by hand or API)"}),
    ("--start-date", {"metavar": "YYYY-MM-DD",
                      "help": f"the DAG's start_date, UTC (default: {DEFAULT_START_DATE})"}),
    ("--catchup", {"action": "store_true", "help": "run the schedule's missed intervals"}),
    ("--tag", {"action": "append", "metavar": "TAG",
               "help": "DAG tag (repeatable; the tag 'laminar' is always added)"}),
    ("--owner", {"help": "the tasks' owner"}),
    ("--pool", {"help": "the Airflow pool the tasks run in"}),
    ("--operator", {"choices": OPERATORS, "default": "python",
                    "help": "python: a task running the shim in the worker's Python (default); "
                    "kubernetes: a KubernetesPodOperator running it in --image"}),
    ("--max-map-length", {"type": int, "metavar": "N",
                          "help": "[core] max_map_length of your Airflow: ForEach layers are "
                          "batched into at most N mapped tasks "
                          f"(default: {DEFAULT_MAX_MAP_LENGTH})"}),
    ("--flow-cwd", {"metavar": "DIR",
                    "help": "working directory of the shim on workers, where FLOW's path is "
                    "valid; relative paths are relative to the DAG file's folder "
                    "(default: the worker's working directory)"}),
)  # fmt: skip

_TAG_LIMIT = 100  # Airflow's DagTag.name column


@dataclass(frozen=True)
class Resources:
    cpu: str | None
    memory: str | None

    def as_dict(self) -> dict[str, str]:
        found = {"cpu": self.cpu, "memory": self.memory}
        return {k: v for k, v in found.items() if v is not None}


@dataclass(frozen=True)
class AirflowTask:
    """One Airflow task: a layer's task, or the planning task of a ForEach layer."""

    id: str
    #: ``task`` or ``plan`` (what the shim does).
    kind: str
    #: The shim's arguments after the executable, exactly as the base plan gives them.
    args: tuple[str, ...]
    #: Ids of the tasks this one waits for (besides the planning task it expands over).
    upstream: tuple[str, ...]
    #: For a ForEach layer's mapped task: the id of the planning task it expands over.
    expand_over: str | None
    #: ``(retries, retry_delay seconds, exponential backoff factor or None)``.
    retry: tuple[int, float, float | None] | None
    env: tuple[tuple[str, str], ...]
    image: str | None
    resources: Resources | None

    def env_dict(self) -> dict[str, str]:
        return dict(self.env)


class AirflowBackend(Backend):
    target: ClassVar[str] = "airflow"
    description: ClassVar[str] = "Apache Airflow DAG file (Airflow 3; 2.10 imports as fallback)"
    # Airflow's KEY_REGEX ^[\w.-]+$ and 250 characters; ASCII only, so ids read the same
    # everywhere (logs, URLs, the CLI).
    rule: ClassVar[NameRule] = NameRule(
        allowed="A-Za-z0-9_.-", max_length=250, separator="_", first="[A-Za-z0-9_]"
    )
    template: ClassVar[str] = "airflow.py.j2"
    plan_suffix: ClassVar[str] = "-plan"

    @classmethod
    def add_arguments(cls, group: argparse._ArgumentGroup) -> None:
        for flag, settings in OPTIONS:
            group.add_argument(flag, dest="airflow_" + flag[2:].replace("-", "_"), **settings)

    def context(self, plan: Plan, options: CompileOptions) -> dict[str, Any]:
        operator = options.get("airflow_operator", "python")
        if operator not in OPERATORS:
            raise ConfigurationError(f"--operator {operator!r} must be one of: python, kubernetes.")
        max_map = options.get("airflow_max_map_length", DEFAULT_MAX_MAP_LENGTH)
        if isinstance(max_map, bool) or not isinstance(max_map, int) or max_map < 1:
            raise ConfigurationError(f"--max-map-length {max_map!r} must be at least 1.")
        kubernetes = operator == "kubernetes"
        if kubernetes and not options.datastore:
            raise ConfigurationError(
                "Kubernetes pods need a datastore they can all reach: pass --datastore, such "
                "as s3://BUCKET/PREFIX."
            )
        tasks: list[AirflowTask] = []
        for step in plan.steps:
            tasks.extend(_tasks(step, options, max_map, kubernetes))
        context = super().context(plan, options)
        context.update(
            header=list(plan.header),
            dag_id=_dag_id(plan, options, self.rule),
            schedule=_text(options, "airflow_schedule", "--schedule"),
            start_date=_start_date(options),
            catchup=bool(options.get("airflow_catchup", False)),
            tags=_tags(options),
            default_args=_default_args(options),
            kubernetes=kubernetes,
            tasks=tasks,
            flow=plan.flow,
            flow_cwd=_text(options, "airflow_flow_cwd", "--flow-cwd"),
            datastore=options.datastore,
            max_map_length=max_map,
            executable=list(options.laminar),
            xcom_path=K8S_XCOM_PATH,
            variables=_variables(tasks),
        )
        return context


def _tasks(
    step: Step, options: CompileOptions, max_map: int, kubernetes: bool
) -> list[AirflowTask]:
    container = step.spec.container
    env = tuple(sorted(container.env.items())) if container else ()
    clash = sorted({k for k, _ in env} & set(_RESERVED_ENV))
    if clash:
        raise ConfigurationError(
            f"Layer {step.name} sets {', '.join(clash)} in Container(env=...), which laminar "
            "sets itself on Airflow; remove it from the layer."
        )
    image = (container.image if container else None) or options.image
    resources = None
    if kubernetes:
        if not image:
            raise ConfigurationError(
                f"Layer {step.name} has no image to run in: pass --image IMAGE, or set "
                f"Container(image=...) on the layer ({step.spec.source})."
            )
        if container and (container.cpu_quantity or container.memory):
            resources = Resources(container.cpu_quantity, container.memory)
    retry = _retry(step)
    skip = len(options.laminar)
    if step.plan_id is None or step.plan_argv is None:
        task = AirflowTask(
            step.id, "task", step.task_argv[skip:], step.upstream, None, retry, env, image,
            resources,
        )  # fmt: skip
        return [task]
    plan_args = (*step.plan_argv[skip:], "--format", "list", "--max-legs", str(max_map))
    return [
        AirflowTask(step.plan_id, "plan", plan_args, step.upstream, None, retry, env, image, None),
        AirflowTask(
            step.id, "task", step.task_argv[skip:], (), step.plan_id, retry, env, image, resources
        ),
    ]


def _retry(step: Step) -> tuple[int, float, float | None] | None:
    """``Retry(attempts, delay, backoff)`` as Airflow's retries, retry_delay and backoff.

    Airflow waits ``retry_delay * factor ** (try - 1)`` before a retry, like laminar, plus a
    deterministic jitter of up to the same amount again.
    """
    retry = step.spec.retry
    if retry is None or retry.attempts == 1:
        return None
    backoff = float(retry.backoff)
    return retry.attempts - 1, float(retry.delay), backoff if backoff != 1.0 else None


def _dag_id(plan: Plan, options: CompileOptions, rule: NameRule) -> str:
    given = options.get("airflow_dag_id")
    if given is None:
        return assign_ids([plan.flow], rule)[plan.flow]
    dag_id = str(given)
    # Airflow 3 also rejects ".." in DAG ids unless [core] allow_double_dot_in_ids is set.
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,250}", dag_id) or ".." in dag_id:
        raise ConfigurationError(
            f"--dag-id {dag_id!r} is not an Airflow DAG id: letters, digits, '_', '.' and '-' "
            "(no '..'), at most 250 characters."
        )
    return dag_id


def _text(options: CompileOptions, dest: str, flag: str) -> str | None:
    value = options.get(dest)
    if value is None:
        return None
    if not str(value).strip():
        raise ConfigurationError(f"{flag} must not be empty.")
    return str(value)


def _start_date(options: CompileOptions) -> tuple[int, ...]:
    text = str(options.get("airflow_start_date", DEFAULT_START_DATE))
    try:
        when = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise ConfigurationError(
            f"--start-date {text!r} is not a date such as 2024-01-01 or 2024-01-01T06:00."
        ) from None
    if when.tzinfo is not None:
        when = when.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return (when.year, when.month, when.day, when.hour, when.minute, when.second)


def _tags(options: CompileOptions) -> list[str]:
    tags = ["laminar"]
    for tag in options.get("airflow_tag", []):
        text = str(tag)
        if not text or len(text) > _TAG_LIMIT:
            raise ConfigurationError(f"--tag {text!r} must be 1 to {_TAG_LIMIT} characters.")
        if text not in tags:
            tags.append(text)
    return tags


def _default_args(options: CompileOptions) -> dict[str, str]:
    args = {"trigger_rule": "none_failed"}
    owner = _text(options, "airflow_owner", "--owner")
    if owner is not None:
        args["owner"] = owner
    pool = _text(options, "airflow_pool", "--pool")
    if pool is not None:
        args["pool"] = pool
    return args


def _variables(tasks: list[AirflowTask]) -> dict[str, str]:
    """A readable, unique Python variable name for each task id."""
    rule = NameRule(allowed="A-Za-z0-9_", max_length=60, separator="_", first="[A-Za-z]")
    return assign_ids([t.id for t in tasks], rule, reserved=_NAMES_IN_FILE)


#: Names the generated file defines or imports; no task variable may shadow them.
_NAMES_IN_FILE = (
    "DAG", "AIRFLOW_2", "FLOW_CWD", "DATASTORE", "COMMANDS", "ENV", "ENV_VARS", "annotations",
    "datetime", "json", "os", "subprocess", "sys", "tempfile", "dag", "k8s", "literal",
    "KubernetesPodOperator", "PythonOperator", "run_layer", "plan_layer", "shim",
    "leg_arguments", "leg_kwargs",
)  # fmt: skip
