"""``laminar compile --target airflow`` options, validated against Airflow's rules."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from laminar.backends.kubernetes import KubernetesOptions
from laminar.backends.options import (
    option,
    require_choice,
    require_pattern,
    require_positive,
    require_text,
)
from laminar.errors import CompileError

OPERATORS = ("python", "kubernetes")
SHIMS = ("in-process", "subprocess")
DEFAULT_START_DATE = "2024-01-01"
_TAG_LIMIT = 100  # Airflow's DagTag.name column
#: Airflow's KEY_REGEX; Airflow 3 also rejects ".." unless [core] allow_double_dot_in_ids.
DAG_ID = r"(?!.*\.\.)[A-Za-z0-9_.-]{1,250}"


@dataclass(frozen=True)
class AirflowOptions(KubernetesOptions):
    dag_id: str | None = option("--dag-id", "the DAG's id (default: the flow's class name)")
    schedule: str | None = option(
        "--schedule",
        "cron expression or preset such as @daily "
        "(default: none, runs are triggered by hand or API)",
        metavar="CRON",
    )
    start_date: str = option(
        "--start-date",
        f"the DAG's start_date, UTC (default: {DEFAULT_START_DATE})",
        default=DEFAULT_START_DATE,
        metavar="YYYY-MM-DD",
    )
    catchup: bool = option(
        "--catchup", "run the schedule's missed intervals", default=False, switch=True
    )
    tag: tuple[str, ...] = option(
        "--tag",
        "DAG tag (repeatable; the tag 'laminar' is always added)",
        metavar="TAG",
        repeat=True,
    )
    owner: str | None = option("--owner", "the tasks' owner")
    pool: str | None = option("--pool", "the Airflow pool the tasks run in")
    operator: str = option(
        "--operator",
        "python: a task running the shim in the worker's "
        "Python (default); kubernetes: a KubernetesPodOperator running it "
        "in --image",
        default="python",
        choices=OPERATORS,
    )
    max_map_length: int | None = option(
        "--max-map-length",
        "batch each ForEach layer into "
        "at most N mapped tasks (default: the deployment's "
        "[core] max_map_length, read where the DAG runs)",
        kind=int,
        metavar="N",
    )
    signing_key_secret: str | None = option(
        "--signing-key-secret",
        "Kubernetes secret with "
        "key LAMINAR_SIGNING_KEY, mounted into every pod "
        "(--operator kubernetes; the python operator uses "
        "the workers' environment)",
        metavar="SECRET",
    )
    shim: str = option(
        "--shim",
        "in-process: each task runs laminar in its own process "
        "(default; Airflow gives every task instance a process); subprocess: "
        "each task starts `python -m laminar`",
        default="in-process",
        choices=SHIMS,
    )
    flow_cwd: str | None = option("--flow-cwd", "working directory of the shim on workers, "
                                  "where FLOW's path is valid, relative to the DAG file's "
                                  "folder (default: that folder, with FLOW's path written "
                                  "relative to the -o file's folder)", metavar="DIR")  # fmt: skip

    @property
    def runs_beside_dag(self) -> bool:
        """The shim runs in the DAG file's folder (the python operator without --flow-cwd), so
        the compiler writes FLOW's path relative to the folder of the DAG it writes: a DAG
        compiled into a repository's dags/ finds the flow where the repository has it."""
        return self.operator == "python" and self.flow_cwd is None

    def __post_init__(self) -> None:
        self.check_kubernetes()
        require_choice(self.operator, "--operator", OPERATORS)
        require_choice(self.shim, "--shim", SHIMS)
        require_pattern(self.dag_id, "--dag-id", DAG_ID, "an Airflow DAG id: letters, "
                        "digits, '_', '.' and '-' (no '..'), at most 250 characters")  # fmt: skip
        # Python literals round-trip any text: only empty values are refused.
        for flag, value in (
            ("--schedule", self.schedule),
            ("--owner", self.owner),
            ("--pool", self.pool),
            ("--flow-cwd", self.flow_cwd),
        ):
            require_text(value, flag, one_line=False)
        require_positive(self.max_map_length, "--max-map-length")
        require_pattern(
            self.signing_key_secret,
            "--signing-key-secret",
            r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?",
            "a Kubernetes secret name",
            253,
        )
        if self.signing_key_secret is not None and self.operator != "kubernetes":
            raise CompileError(
                "--signing-key-secret mounts a Kubernetes secret: it needs --operator "
                "kubernetes. With the python operator, set LAMINAR_SIGNING_KEY in the "
                "workers' environment."
            )
        for tag in self.tag:
            if not tag or len(tag) > _TAG_LIMIT:
                raise CompileError(f"--tag {tag!r} must be 1 to {_TAG_LIMIT} characters.")
        self.start()

    def start(self) -> tuple[int, ...]:
        """``start_date`` as (year, month, day, hour, minute, second) in UTC."""
        try:
            when = datetime.datetime.fromisoformat(str(self.start_date))
        except ValueError:
            raise CompileError(
                f"--start-date {self.start_date!r} is not a date such as 2024-01-01 or "
                "2024-01-01T06:00."
            ) from None
        if when.tzinfo is not None:
            when = when.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return (when.year, when.month, when.day, when.hour, when.minute, when.second)

    def tags(self) -> list[str]:
        return list(dict.fromkeys(["laminar", *self.tag]))

    def default_args(self) -> dict[str, str]:
        args = {"trigger_rule": "none_failed"}
        if self.owner is not None:
            args["owner"] = self.owner
        if self.pool is not None:
            args["pool"] = self.pool
        return args
