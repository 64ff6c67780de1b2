"""The expressions a DAG task reads from the tasks before it: legs and gates.

A fan-out's ``withSequence.count`` and a gated task's ``when:`` are built here, from task and
output names laminar made legal, never from user text.
"""

from __future__ import annotations

from laminar.backends.document import Expression
from laminar.backends.jobs import Gate, Job, OutputKind


def when(job: Job) -> Expression | None:
    """The task's ``when:``: every gate of ``job`` must say "run" (``None``: no gate).

    Built from task and parameter names laminar made legal, never from user text. A gate on
    entry hooks reads the legs its decider's plan printed (0: skipped), wherever that plan
    ran (a fused plan's output lives on the upstream task that planned it); a gate on
    ``Catch`` reads the decider's ``finished`` output.
    """
    conditions = [gate_condition(gate) for gate in job.gates]
    return Expression(" && ".join(conditions)) if conditions else None


def gate_condition(gate: Gate) -> str:
    """One gate as a govaluate comparison of an output of the (always run) deciding task."""
    value = f"{{{{tasks.{gate.job}.outputs.parameters.{gate.output.name}}}}}"
    return f"{value} != 0" if gate.output.kind is OutputKind.LEGS else f"{value} == true"
