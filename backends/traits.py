"""What a target is, as far as the lowering cares: one commented flag each, in one place.

Each dialect holds one ``Traits`` value and lists only what differs from the defaults here
(compare ``backends/argo`` with ``backends/github``); traits that depend on the compile
options (``max_legs``, ``needs_image``, where outputs go) are set by ``Dialect.traits``.
The lowering reads nothing else about a target.
"""

from __future__ import annotations

from dataclasses import dataclass

from laminar.backends.naming import NameRule
from laminar.contract import PlanFormat


@dataclass(frozen=True)
class Traits:
    #: How job ids are spelled in the target (characters, length, case).
    name_rule: NameRule
    #: How ``laminar plan`` prints legs for the target's fan-out syntax.
    plan_format: PlanFormat
    #: Where the shim writes a job's outputs: a path with ``{kind}`` (``legs``, ``finished``)
    #: and ``{job}`` (the job the output is for), or ``$VAR`` (the file a variable names).
    output_path: str
    #: Ids no job may take (names the generated file uses itself).
    reserved: tuple[str, ...] = ()
    #: Added to a layer's id to name its planning job.
    plan_suffix: str = "-plan"
    #: True when the target cannot retry a job: the shim runs the attempts (``--retry``).
    retries_in_shim: bool = False
    #: True when a plan that reads one layer that runs once is made at the end of that
    #: layer's job, instead of by a planning job of its own (``backends/fusion.py``).
    fuse_plans: bool = False
    #: True when the target skips jobs itself from their gates (``when:``, ``if:``); False
    #: when every job starts and the shim says it skipped by its exit status.
    native_skips: bool = True
    #: True when a job may read an output of a job that was skipped (it reads empty).
    reads_skipped_outputs: bool = False
    #: The exit status the target shows as a skipped task (0: none).
    skipped_status: int = 0
    #: True when every job must name a container image.
    needs_image: bool = False
    #: True when the exit job is what tells the orchestrator the run failed (Airflow: it is
    #: the DAG's only leaf): ``laminar exit --fail-if-run-failed``.
    exit_reports_run: bool = False
    #: At most this many legs per fan-out (``None``: one leg per task, or the cap the
    #: orchestrator hands over when the job runs, ``$LAMINAR_MAX_LEGS``).
    max_legs: int | None = None
    #: True when the target gives a layer's pods the resources its ``@hooks.submission`` and
    #: ``@hooks.retry`` hooks decide: the layer is planned, and its plan writes them per leg
    #: and attempt (``laminar plan --resources-output``) for the pod spec to read.
    sized_pods: bool = False
    #: The Kubernetes resource name of GPUs in the plan's resources (``sized_pods``).
    gpu_resource: str = "nvidia.com/gpu"

    @property
    def outputs_share_file(self) -> bool:
        """Whether every output of a job goes to one file (``$VAR`` or a fixed path)."""
        return "{job}" not in self.output_path

    @property
    def one_plan_per_job(self) -> bool:
        """Whether a job hands over the legs of one plan at most: its outputs share one file
        that holds a single value (Airflow's XCom). ``$GITHUB_OUTPUT`` holds named lines
        (``laminar task --plan-key``); Argo has a file per output."""
        return self.outputs_share_file and not self.plan_format.appends

    def output(self, kind: str, job: str) -> str:
        """The path of output ``kind`` of job ``job`` (or the ``$VAR`` every output shares)."""
        return self.output_path.format(kind=kind, job=job)
