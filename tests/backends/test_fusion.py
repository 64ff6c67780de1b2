"""Plans made where the count is known (issue 24): a fan-out whose only upstream runs once
is planned at the end of that upstream's job on every target, and a plan that stays a unit
of its own says why."""

from __future__ import annotations

import pytest

from laminar import Catch, Flow, ForEach, Layer, Parameter
from laminar.backends import TARGETS, dialect_class
from laminar.backends.jobs import JobGraph, JobKind
from laminar.backends.lowering import CompileOptions, lower
from laminar.backends.rehearse import describe


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
    # Argo writes each output to a file of its own, so Source's pod plans both fan-outs;
    # Airflow's XCom and GitHub's legs/matrix lines are one per job.
    if target == "argo":
        assert "Right" not in plans
    else:
        assert plans["Right"].apart.startswith("Source's job already plans a fan-out")
        assert "planned apart: Source's job already plans" in describe(graph, target)


def test_airflow_plans_apart_after_a_layer_whose_caught_error_skips_its_task() -> None:
    """A caught error ends Airflow's task skipped (exit status 99) before the orchestrator
    reads any legs, so the fan-out after it keeps its planning task there only."""
    airflow = lowered(two_fan_outs(catch=True), "airflow")
    assert airflow.job("Left-plan").apart == "its upstream Source may be skipped"
    github = lowered(two_fan_outs(catch=True), "github")
    assert [job.id for job in github.jobs if job.kind is JobKind.PLAN] == [
        "Right-plan",
        "Deeper-plan",
    ]


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
