"""Plans made where the count is known (issue 24): a fan-out whose only upstream runs once
is planned at the end of that upstream's job on every target, and a plan that stays a unit
of its own says why."""

from __future__ import annotations

import pytest

from laminar import Catch, Container, Flow, ForEach, Layer, Parameter
from laminar.backends import TARGETS, dialect_class
from laminar.backends.jobs import JobGraph, JobKind
from laminar.backends.lowering import CompileOptions, lower
from laminar.backends.rehearse import describe
from laminar.configurations import hooks


def two_fan_outs(catch: bool = False) -> type[Flow]:
    flow: type[Flow] = type("Two", (Flow,), {})

    @flow.register(catch=Catch(ValueError) if catch else None)
    class Source(Layer):
        def __call__(self) -> None:
            self.shard(n=[1, 2, 3])

    over = ForEach(parameters=[Parameter(layer=Source, attribute="n")])

    @flow.register(foreach=over)
    class Left(Layer):
        def __call__(self, source: Source) -> None:
            self.n = source.n

    @flow.register(foreach=over)
    class Right(Layer):
        def __call__(self, source: Source) -> None: ...

    @flow.register(foreach=ForEach(parameters=[Parameter(layer=Left, attribute="n")]))
    class Deeper(Layer):
        def __call__(self, left: Left) -> None: ...

    return flow


def lowered(flow: type[Flow], target: str) -> JobGraph:
    cls = dialect_class(target)
    options = CompileOptions(flow_ref="two.py", datastore="s3://b/p", image="python:3.12")
    return lower(flow.ir(), options, cls(options).traits, target)


@pytest.mark.parametrize("target", list(TARGETS))
def test_the_first_fan_out_after_a_layer_that_runs_once_has_no_plan_of_its_own(
    target: str,
) -> None:
    graph = lowered(two_fan_outs(), target)
    plans = {job.layer: job for job in graph.jobs if job.kind is JobKind.PLAN}
    jobs = {job.layer: job for job in graph.jobs if job.kind is not JobKind.PLAN}
    assert "Left" not in plans
    assert graph.job(jobs["Left"].plan or "").layer == "Source"
    assert "--then-plan=Left" in jobs["Source"].argv
    # Deeper fans out over a ForEach layer: its count needs every leg, so a plan of its own.
    assert plans["Deeper"].apart == "its upstream Left is planned itself (legs, or entry hooks)"
    # Argo writes each output to a file of its own and GitHub names each plan's lines
    # (--plan-key), so Source's job plans both fan-outs; Airflow's XCom holds one value.
    if target != "airflow":
        assert "Right" not in plans
        assert "legs-" + jobs["Right"].id in {o.name for o in jobs["Source"].outputs}
    else:
        assert plans["Right"].apart.startswith("Source's job already plans a fan-out")
        assert "planned apart: Source's job already plans" in describe(graph, target)


def test_airflow_plans_apart_after_a_layer_whose_caught_error_skips_its_task() -> None:
    """A caught error ends Airflow's task skipped (exit status 99) before the orchestrator
    reads any legs, so the fan-out after it keeps its planning task there only."""
    airflow = lowered(two_fan_outs(catch=True), "airflow")
    assert airflow.job("Left-plan").apart == "its upstream Source may be skipped"
    github = lowered(two_fan_outs(catch=True), "github")
    assert [job.id for job in github.jobs if job.kind is JobKind.PLAN] == ["Deeper-plan"]


@pytest.mark.parametrize("target", list(TARGETS))
def test_a_fan_out_mapped_1_1_follows_its_leaders_legs_with_no_plan(target: str) -> None:
    """Second and Third map 1:1 onto the layer before them: their legs are First's, read from
    the job that planned First (Source's), after the tasks they read."""
    from tests.flows.following import Following

    graph = lowered(Following, target)
    assert [job.layer for job in graph.jobs if job.kind is JobKind.PLAN] == []
    jobs = {job.layer: job for job in graph.jobs}
    source = jobs["Source"].id
    for layer, before in (("First", "Source"), ("Second", "First"), ("Third", "Second")):
        job = jobs[layer]
        assert job.kind is JobKind.MAPPED and job.plan == source
        assert job.after == (jobs[before].id,)
        assert graph.legs_of(job.id) == graph.legs_of(jobs["First"].id)
    assert "legs: as many as" in describe(graph, target)


def test_a_layer_with_its_own_entry_hook_is_not_a_follower() -> None:
    from laminar import hooks
    from tests.flows.following import First, Following

    flow: type[Flow] = type("Gated", (Following,), {})

    @flow.register(
        foreach=ForEach(parameters=[Parameter(layer=First, attribute="value", index=None)])
    )
    class Checked(Layer):
        @hooks.entry
        def wanted(self, first: First) -> bool:
            return True

        def __call__(self, first: First) -> None: ...

    assert flow.ir().spec("Checked").follows is None
    assert flow.ir().spec("Second").follows == "First"
    plans = [job.layer for job in lowered(flow, "argo").jobs if job.kind is JobKind.PLAN]
    assert plans == ["Checked"]


def early_plans(capped: bool = False) -> type[Flow]:
    """A fan-out that also waits for a second layer, one whose other upstream may be
    skipped, a fan-out over a layer after a gate, and hooks that read no layer."""
    from laminar import hooks

    flow: type[Flow] = type("Early", (Flow,), {})

    @flow.register
    class Gate(Layer):  # a root: no job runs before it to decide it
        def __call__(self) -> None: ...

        @hooks.entry
        def open(self) -> bool:
            return False

    @flow.register
    class Source(Layer):
        def __call__(self) -> None:
            self.shard(n=[1, 2])

    @flow.register
    class Other(Layer):
        def __call__(self) -> None: ...

    over = ForEach(parameters=[Parameter(layer=Source, attribute="n")])

    @flow.register(foreach=over)
    class Wide(Layer):
        def __call__(self, source: Source, other: Other) -> None: ...

    @flow.register(foreach=over)
    class AfterGate(Layer):
        def __call__(self, source: Source, gate: Gate) -> None: ...

    @flow.register
    class Behind(Layer):
        def __call__(self, gate: Gate) -> None:
            self.shard(m=[1])

    behind = ForEach(
        parameters=[Parameter(layer=Behind, attribute="m")], concurrency=2 if capped else None
    )

    @flow.register(foreach=behind)
    class Over(Layer):
        def __call__(self, behind: Behind) -> None: ...

    @flow.register
    class Join(Layer):
        def __call__(self, wide: Wide, over: Over) -> None: ...

        @hooks.entry
        def anyway(self) -> bool:
            return True

    return flow


@pytest.mark.parametrize("target", list(TARGETS))
def test_a_fan_out_is_planned_by_what_it_fans_out_over_whatever_else_it_waits_for(
    target: str,
) -> None:
    graph = lowered(early_plans(), target)
    jobs = {job.layer: job for job in graph.jobs if job.kind is not JobKind.PLAN}
    plans = {job.layer: job.apart for job in graph.jobs if job.kind is JobKind.PLAN}
    wide = jobs["Wide"]
    assert "Wide" not in plans and graph.job(wide.plan or "").layer == "Source"
    assert set(wide.after) == {jobs["Source"].id, jobs["Other"].id}
    # Gate may skip AfterGate, and only a plan after Gate can say so.
    assert plans["AfterGate"] == "Gate, which it also waits for, may be skipped"
    assert "Source's job already plans" not in plans["AfterGate"]


@pytest.mark.parametrize("target", ["argo", "github"])
def test_hooks_that_read_no_layer_are_decided_by_the_nearest_job_that_always_runs(
    target: str,
) -> None:
    graph = lowered(early_plans(), target)
    jobs = {job.layer: job for job in graph.jobs if job.kind is not JobKind.PLAN}
    plans = {job.layer: job.apart for job in graph.jobs if job.kind is JobKind.PLAN}
    assert plans["Gate"] == "it reads no layer, and no layer before it always runs once"
    assert "Join" not in plans and graph.job(jobs["Join"].plan or "").layer == "Other"
    # It waits for its upstreams as before, any of which may have been skipped.
    assert {jobs["Wide"].id, jobs["Over"].id} <= set(jobs["Join"].after)
    assert jobs["Join"].after_skips


@pytest.mark.parametrize("target", ["argo", "github"])
def test_a_fan_out_over_a_layer_a_gate_may_skip_is_planned_by_that_layer(target: str) -> None:
    """Over's gate is Behind's: when Behind is skipped, so is Over, unread. Airflow starts
    every task and lets the shim decide, so a skipped task hands no legs there."""
    graph = lowered(early_plans(), target)
    jobs = {job.layer: job for job in graph.jobs if job.kind is not JobKind.PLAN}
    over = jobs["Over"]
    assert graph.job(over.plan or "").layer == "Behind"
    assert [gate.layer for gate in over.gates] == ["Gate"]
    airflow = lowered(early_plans(), "airflow")
    assert airflow.job("Over-plan").apart == "its upstream Behind may be skipped"
    # A capped fan-out hands its count on as an argument, which Argo resolves even for a
    # skipped task: it keeps a plan of its own.
    capped = lowered(early_plans(capped=True), target)
    assert capped.job(assign(target, "Over-plan")).apart == "its upstream Behind may be skipped"


def assign(target: str, name: str) -> str:
    return name.lower() if target == "argo" else name


def hooked_after(container: Container) -> type[Flow]:
    """Source runs once in the default container; Checked's entry hook reads it, and runs in
    ``container``."""
    flow: type[Flow] = type("Hooked", (Flow,), {})

    @flow.register
    class Source(Layer):
        def __call__(self) -> None:
            self.n = 3

    @flow.register(container=container)
    class Checked(Layer):
        def __call__(self, source: Source) -> None: ...

        @hooks.entry
        def enough(self, source: Source) -> bool:
            return source.n > 2

    return flow


@pytest.mark.parametrize("target", ["argo", "github"])
def test_hooks_are_decided_in_an_earlier_job_only_where_they_run_as_in_their_own(
    target: str,
) -> None:
    # Only the pod's size differs: Source's job runs the hook as Checked's would.
    graph = lowered(hooked_after(Container(cpu=4, memory=8000)), target)
    checked = next(job for job in graph.jobs if job.layer == "Checked")
    assert checked.kind is JobKind.MAPPED and graph.job(checked.plan or "").layer == "Source"
    # Another image, environment or secret is other code or surroundings: a job of its own.
    for other in (
        Container(image="gpu:1"),
        Container(env={"MODE": "fast"}),
        Container(secrets=["TOKEN"]),
    ):
        graph = lowered(hooked_after(other), target)
        plan = graph.job(assign(target, "Checked-plan"))
        assert plan.apart == "its hooks run in its own container, not Source's"


def read_after_skips() -> type[Flow]:
    """Hooks that read a layer that may be skipped: by its own hook (Retrain), by a caught
    error before it (After), or by a hook decided in a planning job of its own (Left)."""
    flow: type[Flow] = type("Skips", (Flow,), {})

    @flow.register
    class Measure(Layer):
        def __call__(self) -> None:
            self.drift = 0.7

    @flow.register
    class Retrain(Layer):
        def __call__(self, measure: Measure) -> None: ...

        @hooks.entry
        def drifted(self, measure: Measure) -> bool:
            return measure.drift > 0.5

    @flow.register
    class Publish(Layer):
        def __call__(self, retrain: Retrain) -> None: ...

        @hooks.entry
        def passed(self, retrain: Retrain) -> bool:
            return retrain.state.finished

    @flow.register(catch=Catch(KeyError))
    class Caught(Layer):
        def __call__(self) -> None: ...

    @flow.register
    class After(Layer):
        def __call__(self, caught: Caught) -> None: ...

    @flow.register
    class Reads(Layer):
        def __call__(self, after: After) -> None: ...

        @hooks.entry
        def seen(self, after: After) -> bool:
            return not after.state.finished

    @flow.register
    class Gate(Layer):
        def __call__(self) -> None: ...

        @hooks.entry
        def shut(self) -> bool:
            return False

    @flow.register
    class Left(Layer):
        def __call__(self, gate: Gate) -> None: ...

    @flow.register
    class Meet(Layer):
        def __call__(self, left: Left) -> None: ...

        @hooks.entry
        def anyway(self, left: Left) -> bool:
            return True

    return flow


def test_github_plans_a_hook_reading_a_skippable_layer_in_its_job_or_in_the_one_that_skips_it() -> (
    None
):
    """A skipped job's outputs read as '' on GitHub, so the plan comes from whichever job
    wrote it: the read layer's when it ran, the deciding job's when it skipped it."""
    graph = lowered(read_after_skips(), "github")
    jobs = {job.layer: job for job in graph.jobs if job.kind is not JobKind.PLAN}
    plans = {job.layer: job.apart for job in graph.jobs if job.kind is JobKind.PLAN}
    publish = jobs["Publish"]
    assert graph.job(publish.plan or "").layer == "Retrain"
    assert publish.plan_otherwise == (jobs["Measure"].id,)
    assert {jobs["Retrain"].id, jobs["Measure"].id} <= set(publish.after)
    # Measure's job plans Retrain, then Publish only if that skipped Retrain.
    measure = list(jobs["Measure"].argv)
    assert measure.index("--then-plan=Retrain") < measure.index("--then-plan=Publish")
    assert "--plan-if-ended=Publish" in measure
    assert "--then-plan=Publish" in jobs["Retrain"].argv
    assert "--plan-if-ended=Publish" not in jobs["Retrain"].argv
    # A caught error decides in its own job, which always runs.
    assert jobs["Reads"].plan_otherwise == (jobs["Caught"].id,)
    assert "--plan-if-ended=Reads" in jobs["Caught"].argv
    # Gate decides in a planning job of its own, which writes one plan: Meet keeps its own.
    assert plans["Meet"] == "its upstream Left may be skipped"
    assert "Meet-plan" in describe(graph, "github")
    text = describe(graph, "github")
    assert "legs: as many as Retrain prints (or Measure, when Retrain is skipped)" in text


@pytest.mark.parametrize("target", ["argo", "airflow"])
def test_targets_that_cannot_read_a_skipped_jobs_outputs_plan_such_hooks_apart(
    target: str,
) -> None:
    graph = lowered(read_after_skips(), target)
    assert not any(job.plan_otherwise for job in graph.jobs)
    assert not any("--plan-if-ended" in " ".join(job.argv) for job in graph.jobs)
    if target == "argo":
        plans = {job.layer: job.apart for job in graph.jobs if job.kind is JobKind.PLAN}
        assert plans["Publish"] == "its upstream Retrain is planned itself (legs, or entry hooks)"
        assert plans["Reads"] == "its upstream After may be skipped"
