"""Each job as one operator of the DAG file, in Airflow's own terms: what the templates read
of it (``AirflowTask``), and the Python variable holding it, never a name the file defines."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from laminar.backends.escaping import PYTHON_RESERVED
from laminar.backends.jobs import Job, JobGraph
from laminar.backends.naming import NameRule, assign_ids


@dataclass(frozen=True)
class AirflowTask:
    """One operator of the DAG file: its job, and the job's parts in Airflow's own terms."""

    job: Job
    #: The Python variable holding the operator.
    var: str
    #: The shim's arguments after the laminar executable (the python operator's command).
    args: tuple[str, ...]
    #: The whole command a pod runs (its image's laminar, then ``args``); in ``workdir``.
    pod_command: tuple[str, ...]
    #: Variables of the tasks this one waits for (a mapped task: none, it expands over its plan).
    upstream: tuple[str, ...]
    #: A mapped task's planning task variable.
    expand_over: str | None
    #: Whether the task returns legs as its XCom (a plan, or a layer planning the fan-out
    #: after it).
    plans: bool = False
    #: ``Retry`` as the operator's ``retries``, ``retry_delay`` (seconds) and
    #: ``retry_exponential_backoff`` (the factor; ``None`` for a fixed delay).
    retries: int = 0
    retry_delay: float = 0.0
    retry_exponential_backoff: float | None = None
    #: ``execution_timeout`` in seconds (per try, as Airflow counts it).
    execution_timeout: float | None = None
    #: ``max_active_tis_per_dagrun``: at most this many of a mapped task's instances at once.
    max_active_tis_per_dagrun: int | None = None
    #: A pod's requests and limits (cpu, memory, GPUs under ``--gpu-resource``).
    container_resources: dict[str, str] = field(default_factory=dict)
    #: Whether its pods ask for what the layer's hooks decide, per leg and try (a mapped
    #: task over a ``--format sized`` plan: ``SizedPodOperator``).
    sized: bool = False
    #: A pod's ``node_selector`` and ``tolerations`` (``k8s.V1Toleration`` keyword arguments).
    node_selector: dict[str, str] = field(default_factory=dict)
    tolerations: tuple[dict[str, Any], ...] = ()


def in_workdir(argv: tuple[str, ...], workdir: str | None) -> tuple[str, ...]:
    """``argv`` run in ``workdir``: KubernetesPodOperator has no working-directory setting,
    so a fixed shell script changes directory; the directory and the command travel as its
    arguments, never inside the script."""
    if workdir is None:
        return argv
    return ("sh", "-c", 'cd "$0" && exec "$@"', workdir, *argv)


def task_variables(graph: JobGraph) -> dict[str, str]:
    """A readable, unique Python variable name for each task id: never a keyword, a soft
    keyword, a builtin or a name the file itself defines."""
    rule = NameRule(allowed="A-Za-z0-9_", max_length=60, separator="_", first="[A-Za-z]")
    reserved = (*NAMES_IN_FILE, *PYTHON_RESERVED)
    ids = [job.id for job in (*graph.jobs, *([graph.exit] if graph.exit else []))]
    return assign_ids(ids, rule, reserved=reserved)


#: Names the generated files define or import; no task variable may shadow them.
NAMES_IN_FILE = (
    "DAG", "AIRFLOW_2", "FLOW_CWD", "DATASTORE", "COMMANDS", "ENV", "ENV_VARS", "MAX_LEGS",
    "INPUTS", "Param", "Secret", "SECRETS", "IN_PROCESS", "call", "argv", "arguments",
    "annotations", "conf", "datetime", "json", "os", "subprocess", "sys", "tempfile", "dag",
    "k8s", "literal", "KubernetesPodOperator", "PythonOperator", "run_layer", "plan_layer",
    "shim", "max_legs", "leg_arguments", "leg_kwargs", "AirflowSkipException", "SKIPPED",
    "ENV_SECRET", "LAYER_SECRETS", "secret_values", "Variable",
)  # fmt: skip
