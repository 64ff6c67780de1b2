"""The expressions a DAG task reads from the tasks before it: legs and gates.

A fan-out's ``withSequence.count`` and a gated task's ``when:`` are built here, from task and
output names laminar made legal, never from user text.
"""

from __future__ import annotations

from laminar.backends.document import Expression
from laminar.backends.jobs import Gate, Job, JobGraph, JobKind
from laminar.errors import CompileError

#: The output parameter of a ``Catch`` layer's task: ``true`` or ``false``.
FINISHED = "finished"


def legs_output(graph: JobGraph, mapped: str) -> str:
    """The output parameter holding the legs of ForEach job ``mapped``: ``legs`` on its own
    planning task, ``legs-<mapped>`` on an upstream task that plans it (it may plan several)."""
    planner = graph.job(graph.job(mapped).plan or "")
    return "legs" if planner.kind is JobKind.PLAN else f"legs-{mapped}"


def when(graph: JobGraph, job: Job) -> Expression | None:
    """The task's ``when:``: every gate of ``job`` must say "run" (``None``: no gate).

    Built from task and parameter names laminar made legal, never from user text. A gate on
    entry hooks reads the legs its decider's plan printed (0: skipped), wherever that plan
    ran (a fused plan's output lives on the upstream task that planned it); a gate on
    ``Catch`` reads the decider's ``finished`` output.
    """
    conditions = [gate_condition(graph, gate) for gate in job.gates]
    return Expression(" && ".join(conditions)) if conditions else None


def gate_condition(graph: JobGraph, gate: Gate) -> str:
    """One gate as a govaluate comparison of an output of the (always run) deciding task."""
    if gate.output == "legs":
        name = legs_output(graph, gate.mapped)
        return f"{{{{tasks.{gate.job}.outputs.parameters.{name}}}}} != 0"
    if gate.output == FINISHED:
        return f"{{{{tasks.{gate.job}.outputs.parameters.{FINISHED}}}}} == true"
    raise CompileError(f"Argo cannot read a gate on {gate.output!r} (job {gate.job}).")
