"""The lowered graph: the jobs every target runs, as ``backends/lowering.py`` builds them.

Plain frozen data. A dialect reads it and translates each job into its target's syntax.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any

from laminar.configurations.layers import Retry
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


@dataclass(frozen=True)
class Gate:
    """A decision a job waits on: the job runs only if layer ``layer`` decided to run.

    ``output`` says where the decision is: ``legs``, the legs its plan printed for the mapped
    job ``mapped`` (0: skipped by its entry hooks), or ``finished``, the ``finished`` output
    (``true``/``false``) of its job ``job`` (``Catch`` caught an error: not finished).
    """

    layer: str
    job: str
    output: str
    mapped: str


@dataclass(frozen=True)
class Resources:
    """Kubernetes quantities (``"500m"``, ``"2Gi"``) requested and limited for a job."""

    cpu: str | None
    memory: str | None

    def items(self) -> tuple[tuple[str, str], ...]:
        found = (("cpu", self.cpu), ("memory", self.memory))
        return tuple((key, value) for key, value in found if value is not None)


@dataclass(frozen=True)
class Job:
    """One job of the lowered graph, with everything resolved and validated."""

    id: str
    kind: JobKind
    spec: LayerSpec
    #: Ids of the jobs this one waits for, in the graph's order.
    after: tuple[str, ...]
    #: The shim command, complete (run-time values come from the contract's env vars).
    argv: tuple[str, ...]
    #: For a ``MAPPED`` job: the id of the job whose legs it fans out over (its ``PLAN`` job,
    #: or the ``RUN`` job of its only upstream when plans are fused).
    plan: str | None = None
    #: For a ``RUN`` job that plans ForEach layers after it runs: their ``MAPPED`` job ids.
    plans: tuple[str, ...] = ()
    image: str | None = None
    #: The layer's own environment (``Container(env=...)``), sorted by name.
    env: tuple[tuple[str, str], ...] = ()
    #: The orchestrator's retries; ``None`` when the layer has none or the shim retries.
    retry: Retry | None = None
    resources: Resources | None = None
    #: The working directory inside the image (``Container(workdir=...)``).
    workdir: str | None = None
    #: How many words at the start of ``argv`` run laminar (the rest are its arguments).
    executable: int = 1
    #: The decisions this job waits on (``lowering`` leaves them out for targets where the
    #: shim decides alone); all must be "run" for the job to start.
    gates: tuple[Gate, ...] = ()
    #: Whether the job runs even when jobs it waits for were skipped: a planning job whose
    #: entry hooks decide (a layer after a skipped one may still run).
    after_skips: bool = False
    #: Whether the job writes whether its layer finished (``--finished-output``): a ``Catch``
    #: layer whose decision gates later jobs.
    reports_finished: bool = False

    @property
    def layer(self) -> str:
        return self.spec.name


def input_text(value: Any) -> str:
    """An input's value as the text an orchestrator's form holds (the shim converts it back
    by the input's declared type): strings as they are, anything else as JSON."""
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

    def job(self, job_id: str) -> Job:
        return self._by_id()[job_id]

    def _by_id(self) -> dict[str, Job]:
        cached: dict[str, Job] | None = self.__dict__.get("_index")
        if cached is None:
            cached = {job.id: job for job in self.jobs}
            object.__setattr__(self, "_index", cached)
        return cached

    def skippable(self, job_id: str) -> bool:
        """Whether ``job_id`` may end skipped on a run where its layer ran (a ForEach fan-out
        with no legs); a layer skipped by a decision is not "ran" (see ``Gate``)."""
        job = self.job(job_id)
        return job.kind is JobKind.MAPPED and job.spec.is_foreach
