"""The lowered graph: the jobs every target runs, as ``backends/lowering.py`` builds them.

Plain frozen data. A dialect reads it and translates each job into its target's syntax.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any

from laminar.configurations.layers import Retry
from laminar.configurations.schedule import Schedule
from laminar.ir import LayerSpec
from laminar.model.parameters import InputSpec


class JobKind(enum.Enum):
    #: Runs a layer without ForEach: ``laminar task FLOW --layer=L``.
    RUN = "run"
    #: Plans a ForEach layer, or runs the entry hooks of a layer without ForEach:
    #: ``laminar plan FLOW --layer=L --format F``; prints its legs (0 when it is skipped).
    PLAN = "plan"
    #: One leg of a planned layer, fanned out over its plan's legs (``LAMINAR_LEG``).
    MAPPED = "mapped"
    #: The flow's exit hooks, once per run whatever happened: ``laminar exit FLOW``. Not in
    #: ``JobGraph.jobs``: each target starts it its own way (``JobGraph.exit``).
    EXIT = "exit"


class OutputKind(enum.Enum):
    #: How many legs a plan printed for the fan-out it feeds (0: skipped by entry hooks).
    LEGS = "legs"
    #: Whether a ``Catch`` layer finished: ``true`` or ``false``.
    FINISHED = "finished"
    #: Per leg and attempt, the resources the layer's hooks decide (``laminar.runtime.sizing``):
    #: a JSON list of lists of {resource name: quantity}.
    RESOURCES = "resources"


@dataclass(frozen=True)
class Output:
    """A value the shim writes for the orchestrator to read, and where it writes it."""

    kind: OutputKind
    #: The output's name in the target: ``legs`` on a planning job, ``legs-<mapped>`` on a
    #: job that plans the fan-outs after it (it may plan several), ``finished``.
    name: str
    #: The file the shim writes (``$VAR``: the file a variable names when the job runs).
    path: str
    #: For ``LEGS``: the ids of the ``MAPPED`` jobs that fan out over it: the planned
    #: layer's, then those of the layers that follow its legs (``LayerSpec.follows``).
    feeds: tuple[str, ...] = ()


@dataclass(frozen=True)
class Gate:
    """A decision a job waits on: the job runs only if layer ``layer`` decided to run, as
    output ``output`` of job ``job`` says (``LEGS``: not 0; ``FINISHED``: ``true``)."""

    layer: str
    job: str
    output: Output
    #: Jobs that write ``output`` instead when ``job`` was skipped (``Job.plan_otherwise``).
    otherwise: tuple[str, ...] = ()


@dataclass(frozen=True)
class Resources:
    """Kubernetes quantities (``"500m"``, ``"2Gi"``) requested and limited for a job, and
    its GPUs (a count; each dialect names the resource)."""

    cpu: str | None
    memory: str | None
    gpu: int | None = None

    def items(self) -> tuple[tuple[str, str], ...]:
        found = (("cpu", self.cpu), ("memory", self.memory))
        return tuple((key, value) for key, value in found if value is not None)


@dataclass(frozen=True)
class Placement:
    """Where a job's pods or runners go (``Container(node_selector=, tolerations=, runs_on=,
    queue=, pool=)``), as the layer declared it; each dialect uses what its target has."""

    node_selector: tuple[tuple[str, str], ...] = ()
    tolerations: tuple[tuple[tuple[str, Any], ...], ...] = ()
    runs_on: tuple[str, ...] = ()
    queue: str | None = None
    #: The Airflow pool the job's tasks take a slot of.
    pool: str | None = None


@dataclass(frozen=True)
class Job:
    """One job of the lowered graph, with everything resolved and validated."""

    id: str
    kind: JobKind
    spec: LayerSpec
    #: Ids of the jobs this one waits for, in the graph's order.
    after: tuple[str, ...]
    #: The shim command, complete: a dialect translates it and never adds to it (run-time
    #: values come from the contract's env vars, outputs go to ``outputs``' paths).
    argv: tuple[str, ...]
    #: For a ``MAPPED`` job: the id of the job whose legs it fans out over (its ``PLAN`` job,
    #: or the ``RUN`` job of the earlier layer that planned it when plans are fused).
    plan: str | None = None
    #: For a ``MAPPED`` job whose ``plan`` job may be skipped: the jobs that skip it, and
    #: plan this one then, into the same output (``backends/fusion.py``). Only on targets
    #: that read a skipped job's outputs as empty (``Traits.reads_skipped_outputs``).
    plan_otherwise: tuple[str, ...] = ()
    #: What the job hands to the orchestrator (legs of the fan-outs it plans, ``finished``).
    outputs: tuple[Output, ...] = ()
    image: str | None = None
    #: The layer's own environment (``Container(env=...)``), sorted by name.
    env: tuple[tuple[str, str], ...] = ()
    #: Secrets the job's process sees as variables of these names (``Container(secrets)``),
    #: from the target's secret store; never a value.
    secrets: tuple[str, ...] = ()
    placement: Placement = Placement()
    #: The orchestrator's retries; ``None`` when the layer has none or the shim retries.
    retry: Retry | None = None
    resources: Resources | None = None
    #: The working directory inside the image (``Container(workdir=...)``).
    workdir: str | None = None
    #: For a ``MAPPED`` job: at most this many of its legs at once (``ForEach(concurrency)``);
    #: a leg runs its tasks one after another, so this many tasks.
    concurrency: int | None = None
    #: Seconds one run of the job may take before the orchestrator stops it: the layer's
    #: ``timeout`` per attempt, or all the shim's attempts and waits where it retries.
    timeout: float | None = None
    #: How many words at the start of ``argv`` run laminar (the rest are its arguments).
    executable: int = 1
    #: The decisions this job waits on (``lowering`` leaves them out for targets where the
    #: shim decides alone); all must be "run" for the job to start.
    gates: tuple[Gate, ...] = ()
    #: Whether the job runs even when jobs it waits for were skipped: the job of a layer
    #: whose entry hooks decide (a layer after a skipped one may still run): its planning
    #: job, or its legs where an earlier job planned it.
    after_skips: bool = False
    #: For a ``PLAN`` job: why no earlier job could plan it (``backends/fusion.py``).
    apart: str = ""

    @property
    def layer(self) -> str:
        return self.spec.name

    def outputs_of(self, kind: OutputKind) -> tuple[Output, ...]:
        return tuple(output for output in self.outputs if output.kind is kind)


def input_text(value: Any) -> str:
    """An input's value as the text an orchestrator's form holds (the shim converts it back
    by the input's declared type): strings as they are, ``None`` (no value: a
    ``LogicalDate()`` input's default) empty, anything else as JSON."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


@dataclass(frozen=True)
class JobGraph:
    """The lowered flow: its jobs in a topological order, and the file's header lines."""

    flow: str
    flow_ref: str
    datastore: str | None
    jobs: tuple[Job, ...]
    header: tuple[str, ...]
    #: The flow's declared inputs: every job receives them (the first one commits them).
    inputs: tuple[InputSpec, ...] = ()
    #: Seconds the whole run may take (the flow's ``timeout``).
    timeout: float | None = None
    #: The flow's docstring (``""``: none); each job's layer has its own (``spec.description``).
    description: str = ""
    #: The job that runs the flow's ``@hooks.exit`` hooks after every other (``None``: none).
    exit: Job | None = None
    #: When the flow runs by itself, and how many runs at once (the flow's settings).
    schedule: Schedule | None = None
    max_active_runs: int | None = None

    @property
    def logical_dates(self) -> bool:
        """Whether an input takes the run's logical date (``LogicalDate()``)."""
        return any(spec.logical_date for spec in self.inputs)

    @property
    def cached(self) -> bool:
        """Whether a layer is cached (``register(cache=...)``): the target then renders the
        per-run switch that ignores the cache (``laminar.contract.NO_CACHE_SWITCH``)."""
        return any(job.spec.settings.cache is not None for job in self.jobs)

    def job(self, job_id: str) -> Job:
        return self._by_id()[job_id]

    def _by_id(self) -> dict[str, Job]:
        cached: dict[str, Job] | None = self.__dict__.get("_index")
        if cached is None:
            cached = {job.id: job for job in self.jobs}
            object.__setattr__(self, "_index", cached)
        return cached

    def legs_of(self, mapped: str) -> Output:
        """The output holding the legs of ``MAPPED`` job ``mapped``, on the job that plans it."""
        planner = self.job(self.job(mapped).plan or "")
        return next(o for o in planner.outputs_of(OutputKind.LEGS) if mapped in o.feeds)

    def resources_of(self, mapped: str) -> Output | None:
        """The output holding what each leg's pod of ``MAPPED`` job ``mapped`` asks for per
        attempt, where the plan writes it (the target sizes pods and the layer has hooks)."""
        planner = self.job(self.job(mapped).plan or "")
        found = (o for o in planner.outputs_of(OutputKind.RESOURCES) if mapped in o.feeds)
        return next(found, None)

    def skippable(self, job_id: str) -> bool:
        """Whether ``job_id`` may end skipped on a run where its layer ran (a ForEach fan-out
        with no legs); a layer skipped by a decision is not "ran" (see ``Gate``)."""
        job = self.job(job_id)
        return job.kind is JobKind.MAPPED and job.spec.is_foreach
