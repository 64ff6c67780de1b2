"""Branching on Argo: entry hooks, skips that follow a skip, and Catch, run through the harness.

The flows of tests/flows/branching.py are compiled by the real CLI and run against the moto
S3 server, as in test_argo_e2e.py. A layer skipped by a decision shows as a ``Skipped`` node
(its ``when:`` read the decider's output), a fan-out whose plan was skipped is ``Skipped``
with no children, the layers with an entry hook after a skip still run, and what the
execution recorded equals a local run of the same flow.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT
from flows.branching import FLOWS, records

from laminar.model.loader import load_flow

from .nodes import ERROR, FAILED, SKIPPED, SUCCEEDED, Node, WorkflowRun
from .s3 import MotoServer, S3Bucket
from .schema import assert_valid_workflow
from .test_argo_e2e import PREFIX, compile_argo, harness, s3_environment

FLOW_FILE = "tests/flows/branching.py"
#: A gate, as the dialect writes it: an output of a task named by laminar, compared to a
#: constant. Several are joined with ``&&``.
GATE = r"\{\{tasks\.[a-z][-a-z0-9]*\.outputs\.parameters\.(legs(-[a-z][-a-z0-9]*)?|finished)\}\}"
WHEN = re.compile(rf"{GATE} (!= 0|== true)( && {GATE} (!= 0|== true))*")
EMPTY = "Skipped, empty params"


class Ran:
    """One flow compiled, run through the harness, and its records next to a local run's."""

    def __init__(self, run: WorkflowRun, manifest: str, argo: dict[str, Any], local: Any):
        self.run = run
        self.manifest = manifest
        self.records = argo
        self.local = local

    def phases(self) -> dict[str, str]:
        return {task: node.phase for task, node in self.run.nodes.items()}


@pytest.fixture(scope="module")
def branching(
    moto_server: MotoServer, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], Ran]:
    cache: dict[str, Ran] = {}

    def get(name: str) -> Ran:
        if name not in cache:
            flow = FLOWS[name]
            bucket = moto_server.bucket()
            manifest = compile_argo(f"{FLOW_FILE}:{name}", ROOT, bucket)
            execution = f"{name.lower()}-e2e01"
            workdir = tmp_path_factory.mktemp(f"argo-{name}")
            run = harness(workdir, bucket, ROOT).run(manifest, name=execution)
            with s3_environment(bucket):
                argo = records(flow, execution, bucket.url(PREFIX))
            store = str(tmp_path_factory.mktemp(f"local-{name}"))
            flow(datastore=store)(execution="local")
            cache[name] = Ran(run, manifest, argo, records(flow, "local", store))
        return cache[name]

    return get


def assert_clean(run: WorkflowRun) -> None:
    assert run.phase == SUCCEEDED, run.describe()
    bad = [node.name for node in run.walk() if node.phase in (FAILED, ERROR)]
    assert bad == [], run.describe()


def skipped_by_when(node: Node, when: str) -> bool:
    return node.phase == SKIPPED and node.message == f"when '{when}' evaluated false"


@pytest.mark.e2e
def test_conditional_flow_on_argo(branching: Callable[[str], Ran]) -> None:
    ran = branching("ConditionalFlow")
    run = ran.run
    assert_clean(run)
    # B's entry hook ran in A's pod (B's only upstream planned it) and said no: 0 legs.
    assert run["a"].outputs["legs-b"] == "0"
    assert run["b"].phase == SKIPPED and run["b"].message == EMPTY and run["b"].children == []
    # D after the skipped B: Argo skips it from its when, no pod starts.
    assert skipped_by_when(run["d"], "0 != 0") and run["d"].attempts == []
    # E has its own entry hook, which reads no layer: C's pod (C always runs) decided it,
    # and E runs after its skipped dependency D.
    assert "e-plan" not in run.nodes and run["c"].outputs["legs-e"] == "1"
    assert run["e"].phase == SUCCEEDED and len(run["e"].children) == 1
    assert run["c"].phase == SUCCEEDED
    assert ran.records == ran.local
    assert ran.records["E"]["attributes"] == {"foo": ["baz"]}  # type: ignore[index]


@pytest.mark.e2e
def test_branches_on_argo(branching: Callable[[str], Ran]) -> None:
    ran = branching("Branches")
    run = ran.run
    assert_clean(run)
    phases = ran.phases()
    # Retrain's hook said yes (planned in Measure's pod); Publish's own plan said no.
    assert run["measure"].outputs["legs-retrain"] == "1" and phases["retrain"] == SUCCEEDED
    assert run["publish-plan"].outputs["legs"] == "0"
    assert phases["publish"] == SKIPPED and run["publish"].message == EMPTY
    # Everything skipped for sure after Publish is skipped by Argo, from one gate.
    for task in ("announce", "archive"):
        assert skipped_by_when(run[task], "0 != 0"), run.describe()
    # Notify is planned in Announce's pod (the same gate skips both), so Announce was
    # skipped and Notify's count cannot resolve: Argo's lazy expansion of a false `when`.
    assert "notify-plan" not in run.nodes
    assert phases["notify"] == SKIPPED and run["notify"].children == []
    assert run["notify"].message == EMPTY
    # Lookup's error was caught: it says so, and UseLookup is skipped by Argo (Lookup
    # always runs, so its `finished` output can be read).
    assert phases["lookup"] == SUCCEEDED and run["lookup"].outputs["finished"] == "false"
    assert skipped_by_when(run["use-lookup"], "false == true")
    # The branch inside a fan-out is decided per task by the shim: every leg runs.
    assert phases["square"] == SUCCEEDED and len(run["square"].children) == 5
    assert phases["halve"] == SUCCEEDED
    # Report has an entry hook that reads no layer: the pod of Lookup, the nearest layer
    # before it that always runs, decided it; it runs whatever was skipped before it.
    assert run["lookup"].outputs["legs-report"] == "1" and phases["report"] == SUCCEEDED
    (leg,) = run["report"].children
    assert leg.stdout.splitlines() == [
        "before Report",
        "report retrained on drift 0.7 False [1, 9, 25] [0.5, 12.5]",
        "after Report",
    ]
    no_pod = [node.name for node in run.walk() if node.phase == SKIPPED and node.attempts]
    assert no_pod == []
    assert ran.records == ran.local


@pytest.mark.e2e
def test_shapes_on_argo(branching: Callable[[str], Ran]) -> None:
    ran = branching("Shapes")
    run = ran.run
    assert_clean(run)
    phases = ran.phases()
    # A diamond after a skip: both sides skipped by Argo, the join's own hook runs.
    assert run["gate-plan"].outputs["legs"] == "0" and run["gate"].message == EMPTY
    assert skipped_by_when(run["left"], "0 != 0") and skipped_by_when(run["right"], "0 != 0")
    assert phases["meet"] == SUCCEEDED
    # Fan-outs whose tasks are all skipped or partly caught are decided per task: every leg
    # runs, and the layers after them run on what the joins hold.
    assert len(run["odd-only"].children) == 3 and phases["after-none"] == SUCCEEDED
    assert len(run["fragile"].children) == 3 and phases["after-fragile"] == SUCCEEDED
    assert run["mend-plan"].outputs["legs"] == "3" and phases["mend"] == SUCCEEDED
    assert phases["end"] == SUCCEEDED
    assert ran.records == ran.local
    assert ran.records["Mend"]["attributes"] == {"mended": [1]}  # type: ignore[index]


@pytest.mark.e2e
def test_plans_made_by_earlier_pods_on_argo(branching: Callable[[str], Ran]) -> None:
    """Issue 24: every plan of Early but Mended's is made at the end of an earlier pod.
    Mended's hook reads Big, which was skipped: Argo cannot read a skipped task's outputs
    (argoproj/argo-workflows#16793), so a planning pod decides it after Big."""
    ran = branching("Early")
    run = ran.run
    assert_clean(run)
    plans = [task for task in run.nodes if task.endswith("-plan")]
    assert plans == ["mended-plan"], run.describe()
    assert run["mended-plan"].outputs["legs"] == "1" and len(run["mended"].children) == 1
    # Product fans out over Source's shards, planned in Source's pod, after Scale too.
    assert run["source"].outputs["legs-product"] == "3" and len(run["product"].children) == 3
    # Big's hook reads Scale only: Scale's pod said no, and Big was skipped unrun.
    assert run["scale"].outputs["legs-big"] == "0" and run["big"].message == EMPTY
    # Each is planned by Parts, skipped by the same gate: its count is never read.
    assert skipped_by_when(run["parts"], "0 != 0")
    assert run["each"].phase == SKIPPED and run["each"].children == []
    # Summary's hook reads no layer: Scale's pod (nearest that always runs) decided it.
    assert run["scale"].outputs["legs-summary"] == "1"
    assert run["summary"].phase == SUCCEEDED and len(run["summary"].children) == 1
    assert ran.records == ran.local
    assert ran.records["Summary"]["attributes"] == {  # type: ignore[index]
        "seen": [[10, 20, 30], False, False]
    }


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_branching_manifests_are_valid_and_gate_on_ids_only(name: str, tmp_path: Path) -> None:
    """Schema-valid, deterministic, and every ``when`` reads only outputs of tasks laminar
    named that always run (no ``when``, no fan-out): Argo cannot read a skipped task's."""
    from laminar.backends import generate
    from laminar.model.loader import load_flow

    flow = load_flow(f"{FLOW_FILE}:{name}")
    options: dict[str, Any] = {
        "flow_ref": f"{FLOW_FILE}:{name}",
        "datastore": "s3://bucket/runs",
        "image": "ghcr.io/acme/flows:1.4",
    }
    text = generate("argo", flow.ir(), **options)
    assert text == generate("argo", flow.ir(), **options)
    assert_valid_workflow(text)
    doc = yaml.safe_load(text)
    (dag,) = [t["dag"] for t in doc["spec"]["templates"] if t["name"] == "main"]
    tasks = {task["name"]: task for task in dag["tasks"]}
    gated = {task["name"]: task["when"] for task in dag["tasks"] if "when" in task}
    assert gated, "the flow has skips, so some task is gated"
    templates = {t["name"]: t for t in doc["spec"]["templates"]}
    for task, when in gated.items():
        assert WHEN.fullmatch(when), (task, when)
        for read, output in re.findall(
            r"\{\{tasks\.([-a-z0-9]+)\.outputs\.parameters\.([-a-z]+)", when
        ):
            assert "when" not in tasks[read] and "withSequence" not in tasks[read], (task, read)
            declared = {p["name"] for p in templates[read]["outputs"]["parameters"]}
            assert output in declared, (task, read, output)


AFTER_CATCH = """
    from laminar import Catch, Flow, ForEach, Layer, Parameter
    from laminar.configurations import hooks


    class EdgeFlow(Flow):
        '''Catch after a skip, a hook with Catch, and a fan-out planned by a Catch layer.'''


    @EdgeFlow.register
    class Gate(Layer):
        def __call__(self) -> None:
            self.ok = False

        @hooks.entry
        def go(self) -> bool:
            return True


    @EdgeFlow.register(catch=Catch(KeyError))
    class Risky(Layer):
        def __call__(self, gate: Gate) -> None:
            self.x = {}["nope"]


    @EdgeFlow.register
    class AfterRisky(Layer):
        def __call__(self, risky: Risky) -> None:
            self.y = 1


    @EdgeFlow.register(catch=Catch(ValueError))
    class Source(Layer):
        def __call__(self) -> None:
            self.shard(item=[1, 2])
            raise ValueError("caught")


    @EdgeFlow.register(foreach=ForEach(parameters=[Parameter(layer=Source, attribute="item")]))
    class Fan(Layer):
        def __call__(self, source: Source) -> None:
            self.v = source.item


    @EdgeFlow.register(catch=Catch(RuntimeError))
    class Both(Layer):
        def __call__(self, gate: Gate) -> None:
            raise RuntimeError("caught too")

        @hooks.entry
        def go(self) -> bool:
            return True


    @EdgeFlow.register
    class AfterBoth(Layer):
        def __call__(self, both: Both) -> None:
            self.z = 1


    @EdgeFlow.register
    class End(Layer):
        def __call__(self, after: AfterRisky, fan: Fan, both: AfterBoth) -> None:
            self.seen = [after.state.finished, fan.state.finished, both.state.finished]

        @hooks.entry
        def always(self) -> bool:
            return True
"""


@pytest.mark.e2e
def test_a_skip_argo_cannot_read_runs_a_pod_that_records_it(
    s3_bucket: S3Bucket, tmp_path: Path
) -> None:
    """Risky and Both catch their errors, but each may itself be skipped by Gate's or its
    own entry hook, so Argo could not read their ``finished`` output: the layers after them
    run a pod in which the shim records the skip (the node Succeeds). Fan, planned by
    Source's pod, reads Source's output: Source always runs."""
    app = tmp_path / "app"
    app.mkdir()
    (app / "flow.py").write_text(textwrap.dedent(AFTER_CATCH), encoding="utf-8")
    manifest = compile_argo("flow.py", app, s3_bucket)
    run = harness(tmp_path / "run", s3_bucket, app).run(manifest, name="catch-e2e01")
    assert_clean(run)
    tasks = {t["name"]: t for t in yaml.safe_load(manifest)["spec"]["templates"][0]["dag"]["tasks"]}
    assert tasks["after-risky"]["when"] == "{{tasks.gate-plan.outputs.parameters.legs}} != 0"
    assert tasks["fan"]["when"] == "{{tasks.source.outputs.parameters.finished}} == true"
    outputs = run["source"].outputs
    assert (outputs["legs-fan"], outputs["finished"]) == ("0", "false")
    assert run["fan"].phase == SKIPPED and run["fan"].message == EMPTY
    for task in ("after-risky", "after-both"):
        assert run[task].phase == SUCCEEDED and len(run[task].attempts) == 1
    flow = load_flow(str(app / "flow.py"))
    with s3_environment(s3_bucket):
        argo = records(flow, "catch-e2e01", s3_bucket.url(PREFIX))
    flow(datastore=str(tmp_path / "local"))(execution="local")
    assert argo == records(flow, "local", str(tmp_path / "local"))
    assert argo["AfterRisky"] == {  # type: ignore[comparison-overlap]
        "ended": "skipped: Risky failed and its error was caught",
        "finished": False,
        "attributes": {},
    }
    assert argo["End"]["attributes"] == {"seen": [False, False, False]}  # type: ignore[index]
