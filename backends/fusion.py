"""Which plans are made at the end of an earlier job, instead of by a job of their own.

Every orchestrator unit costs a start (a pod, a scheduler hop, a billed runner), so a fan-out
(or a layer's entry hooks) whose plan needs only what one job has just committed is planned
at the end of that job (``laminar task --then-plan``), on every target that can read the
legs from it (``Traits.fuse_plans``). Decided here once; dialects only read ``Job.plan``.

A plan reads few layers (``LayerSpec.plan_reads``): what a ForEach fans out over, what its
hooks take. When that is one layer that runs once and always runs, that layer's job plans
it, whatever else the layer waits for; when it is none (an entry hook that reads no layer),
the nearest layer before it that runs once and always runs does.
"""

from __future__ import annotations

from dataclasses import replace

from laminar.backends.sizing import sizes_pods
from laminar.backends.traits import Traits
from laminar.configurations.layers import Container
from laminar.ir import FlowIR, LayerSpec
from laminar.ir.branching import decides, skip_upstreams


def planned(spec: LayerSpec, traits: Traits) -> bool:
    """Whether the layer has a plan: a ForEach layer, one whose entry hooks decide where the
    target skips jobs itself (its gates read the plan's legs; where the shim says a skip by
    its exit status, Airflow, the layer's own task runs its hooks first), or, where the target
    sizes pods, one whose hooks decide its resources (``backends/sizing.py``)."""
    return spec.is_foreach or (spec.has_entry and traits.native_skips) or sizes_pods(spec, traits)


def leaders(ir: FlowIR, traits: Traits) -> dict[str, str]:
    """Planned layer -> the layer whose plan gives its legs: itself, or the first of the
    layers it follows 1:1 (``LayerSpec.follows``: no plan of its own)."""
    leader: dict[str, str] = {}
    for spec in ir.specs():  # run order: a leader's own leader is known first
        if planned(spec, traits):
            leader[spec.name] = spec.name if spec.follows is None else leader[spec.follows]
    return leader


def runs_like(ours: Container | None, theirs: Container | None) -> bool:
    """Whether hooks see the same code and surroundings in either container: the same image,
    command, environment, secrets, GPUs and placement. Only the CPU and memory a pod asks
    for may differ: a hook's decision does not depend on them, and deciding is small."""

    def seen(container: Container | None) -> Container:
        return replace(container or Container(), cpu=None, memory=None)

    return seen(ours) == seen(theirs)


class Fusion:
    """For one flow and target: which job plans each planned layer, and why a plan that
    keeps a unit of its own does.

    ``waits`` is ``laminar.ir.branching.deciders(ir)``: what may skip each layer.
    """

    def __init__(self, ir: FlowIR, waits: dict[str, tuple[str, ...]], traits: Traits) -> None:
        self.ir, self.waits, self.traits = ir, waits, traits
        #: Planned layer -> the layer whose job plans it at its end.
        self.fused: dict[str, str] = {}
        #: Fused layer -> the layers whose jobs plan it instead when the layer it reads was
        #: skipped (``fallbacks``); absent when that layer's job always plans it.
        self.otherwise: dict[str, tuple[str, ...]] = {}
        #: Planned layer (not fused, not a follower) -> why it is planned apart.
        self.apart: dict[str, str] = {}
        for spec in ir.specs():  # run order: "already plans a fan-out" sees earlier choices
            if planned(spec, traits) and spec.follows is None:
                planner, why = self.planner(spec)
                if planner is None:
                    self.apart[spec.name] = why
                    continue
                self.fused[spec.name] = planner
                if not self.reliable(spec, planner):
                    self.otherwise[spec.name] = self.fallbacks(spec, planner) or ()

    def always_runs(self, name: str) -> bool:
        """Whether a layer that runs once always finishes when the run goes on: no decision
        may skip it. Where the shim says a skip by its exit status (no native skips), a
        layer that may end not finished (``Catch``, entry hooks) ends its task skipped
        before the orchestrator reads any legs from it."""
        spec = self.ir.spec(name)
        if self.waits[name] or planned(spec, self.traits):
            return False
        return self.traits.native_skips or not decides(spec)

    def gated_with(self, spec: LayerSpec, upstream: str) -> bool:
        """Whether, where the target skips jobs itself, every decision that may skip
        ``upstream`` (a layer that runs once) gates the job of ``spec`` too: then that job
        never reads the legs of a skipped job, as it is skipped with it. A capped fan-out
        (``ForEach(concurrency=N)``) is left out: Argo hands its count on as an argument,
        which it resolves even for a skipped task."""
        foreach = spec.settings.foreach
        if not self.traits.native_skips or foreach is None or foreach.concurrency is not None:
            return False
        gates = self.waits[spec.name]
        return all(d in gates and self.ir.spec(d).has_entry for d in self.waits[upstream])

    def planner(self, spec: LayerSpec) -> tuple[str | None, str]:
        """(the layer whose job plans ``spec``, "") or (None, why it needs a unit of its own)."""
        if not self.traits.fuse_plans:
            return None, "the target plans every layer apart"
        reads = spec.plan_reads
        if len(reads) > 1:
            return None, f"its plan reads several layers ({', '.join(reads)})"
        if not reads:  # an entry hook that reads no layer: any job before it can decide
            candidates = [name for name in self.ancestors(spec.name) if self.always_runs(name)]
            if not candidates:
                return None, "it reads no layer, and no layer before it always runs once"
            reasons = [self.refusal(spec, name) for name in candidates]
            chosen = [name for name, why in zip(candidates, reasons, strict=True) if not why]
            return (chosen[0], "") if chosen else (None, reasons[0])
        (upstream,) = reads
        source = self.ir.spec(upstream)
        if not self.reliable(spec, upstream) and self.fallbacks(spec, upstream) is None:
            if planned(source, self.traits):
                return None, f"its upstream {upstream} is planned itself (legs, or entry hooks)"
            return None, f"its upstream {upstream} may be skipped"
        for other in skip_upstreams(spec):
            if other != upstream and not self.always_runs(other):
                return None, f"{other}, which it also waits for, may be skipped"
        why = self.refusal(spec, upstream)
        return (None, why) if why else (upstream, "")

    def reliable(self, spec: LayerSpec, upstream: str) -> bool:
        """Whether the job of ``upstream`` (a layer that runs once, read by the plan of
        ``spec``) always runs to plan ``spec``, or is skipped only with ``spec``'s job."""
        if planned(self.ir.spec(upstream), self.traits):
            return False
        return self.always_runs(upstream) or self.gated_with(spec, upstream)

    def fallbacks(self, spec: LayerSpec, upstream: str) -> tuple[str, ...] | None:
        """Where a skipped job's outputs read as empty (GitHub: ``a || b``), a plan reading
        ``upstream``, a layer that runs once but may be skipped, is made by ``upstream``'s job
        when it runs, and otherwise by the job that skipped it: the layers whose jobs make
        the decisions that may skip it (its own entry hooks, a gate, a caught error). Each
        plans it as it ends if ``upstream`` was skipped (``laminar task --plan-if-ended``).
        ``None`` where one of them is a planning job of its own or may itself be skipped
        (then nobody might plan it), or cannot run the hooks of ``spec``."""
        source = self.ir.spec(upstream)
        if not self.traits.reads_skipped_outputs or source.is_foreach or source.sized:
            return None
        deciders = (*self.waits[upstream], *([upstream] if source.has_entry else []))
        found: list[str] = []
        for decider in deciders:
            # Entry hooks decide at the end of the job that plans them; a Catch, in its own.
            where = self.fused.get(decider) if self.ir.spec(decider).has_entry else decider
            if where is None or not self.always_runs(where) or self.refusal(spec, where):
                return None
            found.append(where)
        return tuple(dict.fromkeys(found)) if found else None

    def refusal(self, spec: LayerSpec, upstream: str) -> str:
        """Why the job of ``upstream`` cannot plan ``spec``, which it may otherwise; "" if it can.

        Entry hooks are the user's code: they are planned there only when that job's
        container runs them as the layer's own would (``runs_like``). Where a job's outputs
        hold one value (``$LAMINAR_OUTPUT``'s XCom: ``Traits.one_plan_per_job``), a job plans
        one fan-out at most: the first in run order.
        """
        sizing = sizes_pods(spec, self.traits)
        if sizing and self.traits.outputs_share_file:
            return (
                "its plan's one output carries its pods' resources with the legs (--format sized)"
            )
        hooks = (spec.has_entry and not spec.is_foreach) or sizing
        if hooks and not runs_like(
            spec.settings.container, self.ir.spec(upstream).settings.container
        ):
            return f"its hooks run in its own container, not {upstream}'s"
        if self.traits.one_plan_per_job and upstream in self.fused.values():
            return f"{upstream}'s job already plans a fan-out (a job's output holds one plan)"
        return ""

    def ancestors(self, name: str) -> list[str]:
        """The layers ``name`` waits for, directly or not, nearest (latest in run order) first."""
        found: set[str] = set()
        todo = list(self.ir.spec(name).dependencies)
        while todo:
            current = todo.pop()
            if current not in found:
                found.add(current)
                todo += self.ir.spec(current).dependencies
        return [layer for layer in reversed(self.ir.order) if layer in found]
