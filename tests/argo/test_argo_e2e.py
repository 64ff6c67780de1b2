"""End to end: compiled by the real CLI, run as Argo would run it, against a real S3 API.

Each flow is compiled with ``laminar compile --target argo`` in a subprocess, checked by the
strict validator, and executed by the local Argo harness (tests/argo/harness.py): every pod
is a ``laminar`` process that reaches the moto S3 server with the credentials of the
Kubernetes secret named by ``--s3-secret`` and the endpoint given by ``--s3-endpoint``.
The results read back from S3 must equal those of ``laminar run`` on a local datastore.
The execution id is the workflow's name, so the tests pass ``name=`` to the harness.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import os
import re
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import s3fs  # type: ignore[import-untyped]
import yaml
from conftest import EXAMPLES, ROOT, laminar

from laminar.model.loader import load_flow

from .harness import ArgoHarness
from .nodes import FAILED, SKIPPED, SUCCEEDED, WorkflowRun
from .pods import Attempt
from .s3 import MotoServer, S3Bucket
from .schema import assert_valid_workflow

#: Flows run end to end on the Argo harness and a real S3 API: engine tests, as Airflow's and
#: act's are (CI runs them once, not again on every declared Python).
pytestmark = pytest.mark.e2e

IMAGE = "ghcr.io/acme/flows:1.4"
SECRET = "laminar-s3"
PREFIX = "laminar"
NAMES = sorted(path.stem for path in EXAMPLES.glob("*.py"))


def compile_argo(flow: str, cwd: Path, bucket: S3Bucket, *extra: str) -> str:
    """The workflow as a user gets it from the CLI, after the strict validator accepted it."""
    result = laminar(
        "compile", flow, "--target", "argo", "--image", IMAGE,
        "--datastore", bucket.url(PREFIX), "--s3-secret", SECRET,
        "--s3-endpoint", bucket.endpoint_url, *extra,
        cwd=cwd,
    )  # fmt: skip
    assert_valid_workflow(result.stdout)
    return result.stdout


def harness(workdir: Path, bucket: S3Bucket, image_workdir: Path, **options: Any) -> ArgoHarness:
    """A cluster whose image has laminar on PATH and whose secret holds the S3 credentials.

    The pods' environment holds no AWS variable of the test process: the keys arrive only
    through the secret the manifest names, as on a cluster.
    """
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    secret = {"AWS_ACCESS_KEY_ID": bucket.access_key, "AWS_SECRET_ACCESS_KEY": bucket.secret_key}
    env = {"PATH": path, **options.pop("env", {})}
    if os.environ.get("PYTHONPATH"):  # the pods run the laminar this test process imports
        env.setdefault("PYTHONPATH", os.environ["PYTHONPATH"])
    options.setdefault("concurrency", 2)
    return ArgoHarness(
        workdir, env=env, secrets={SECRET: secret}, image_workdir=image_workdir, **options
    )


@contextlib.contextmanager
def s3_environment(bucket: S3Bucket) -> Iterator[None]:
    """Point this process's fsspec/botocore at the bucket's server while reading results."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in bucket.env().items():
            patch.setenv(key, value)
        s3fs.S3FileSystem.clear_instance_cache()
        try:
            yield
        finally:
            s3fs.S3FileSystem.clear_instance_cache()


def s3_snapshot(flow: Path, execution: str, bucket: S3Bucket) -> dict[str, dict[str, Any]]:
    with s3_environment(bucket):
        return load_flow(str(flow)).results(execution, datastore=bucket.url(PREFIX)).snapshot()


@dataclasses.dataclass(frozen=True)
class LocalRun:
    snapshot: dict[str, dict[str, Any]]
    stdout: str


def run_locally(flow: Path, store: Path, cwd: Path, env: dict[str, str] | None = None) -> LocalRun:
    result = laminar(
        "run", str(flow), "--datastore", str(store), "--execution", "local", "-q",
        cwd=cwd, env=env,
    )  # fmt: skip
    snapshot = load_flow(str(flow)).results("local", datastore=str(store)).snapshot()
    return LocalRun(snapshot, result.stdout)


def printed_lines(run: WorkflowRun) -> list[str]:
    """Every line the pods printed (last attempt of each pod), sorted: pods run in any order."""
    return sorted(line for node in run.walk() for line in node.stdout.splitlines())


@dataclasses.dataclass(frozen=True)
class ArgoRun:
    run: WorkflowRun
    snapshot: dict[str, dict[str, Any]]
    manifest: str


@pytest.fixture(scope="module")
def local_example(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], LocalRun]:
    """``laminar run`` of an example on a local datastore, once per module."""
    cache: dict[str, LocalRun] = {}

    def get(name: str) -> LocalRun:
        if name not in cache:
            store = tmp_path_factory.mktemp(f"local-{name}")
            cache[name] = run_locally(EXAMPLES / f"{name}.py", store, ROOT)
        return cache[name]

    return get


@pytest.fixture(scope="module")
def argo_example(
    moto_server: MotoServer, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], ArgoRun]:
    """An example compiled and run through the harness on its own bucket, once per module."""
    cache: dict[str, ArgoRun] = {}

    def get(name: str) -> ArgoRun:
        if name not in cache:
            bucket = moto_server.bucket()
            manifest = compile_argo(f"examples/{name}.py", ROOT, bucket)
            execution = f"{name.replace('_', '-')}-e2e01"
            workdir = tmp_path_factory.mktemp(f"argo-{name}")
            # A scheduled example's run is scheduled now: its logical date is today's.
            now = datetime.datetime.now(datetime.timezone.utc).isoformat()
            run = harness(workdir, bucket, ROOT).run(manifest, name=execution, scheduled_time=now)
            assert run.phase == SUCCEEDED, run.describe()
            snapshot = s3_snapshot(EXAMPLES / f"{name}.py", execution, bucket)
            cache[name] = ArgoRun(run, snapshot, manifest)
        return cache[name]

    return get


@pytest.mark.parametrize("name", NAMES)
def test_example_on_argo_matches_laminar_run(
    name: str,
    argo_example: Callable[[str], ArgoRun],
    local_example: Callable[[str], LocalRun],
) -> None:
    argo, local = argo_example(name), local_example(name)
    assert argo.snapshot == local.snapshot
    assert printed_lines(argo.run) == sorted(local.stdout.splitlines())
    # Only counts travel through Argo: every planning output is a bare number.
    planned = [v for n in argo.run.walk() for k, v in n.outputs.items() if k.startswith("legs")]
    # One planning output per plan; a fan-out following another's legs reads the same one.
    counts = set(re.findall(r"withSequence:\n\s+count: (.+)\n", argo.manifest))
    assert len(planned) == len(counts)
    assert all(re.fullmatch(r"\d+", legs) for legs in planned), planned


def test_grid_prints_the_seed_output(argo_example: Callable[[str], ArgoRun]) -> None:
    run = argo_example("grid").run
    legs = run["process"].children
    assert [leg.stdout for leg in legs] == [
        "0 1 a\n", "1 2 a\n", "2 3 a\n", "3 1 b\n", "4 2 b\n", "5 3 b\n",
    ]  # fmt: skip


def test_empty_fan_out_is_skipped_and_downstream_still_runs(
    argo_example: Callable[[str], ArgoRun],
) -> None:
    run = argo_example("empty").run
    # Process's only upstream planned it, in its own pod: no planning pod.
    assert run["shard"].outputs["legs-process"] == "0"
    assert "process-plan" not in {node.task for node in run.walk()}
    assert run["process"].phase == SKIPPED
    assert run["process"].children == []
    assert run["report"].phase == SUCCEEDED
    assert run["report"].stdout == "tasks: 0 []\n"
    assert argo_example("empty").snapshot["Report"] == {"count": 0}


def test_max_legs_batches_the_grid_into_two_pods(
    s3_bucket: S3Bucket, tmp_path: Path, local_example: Callable[[str], LocalRun]
) -> None:
    manifest = compile_argo("examples/grid.py", ROOT, s3_bucket, "--max-legs", "2")
    run = harness(tmp_path, s3_bucket, ROOT).run(manifest, name="grid-legs")
    assert run.phase == SUCCEEDED, run.describe()
    assert run["shard"].outputs["legs-process"] == "2"
    batches = [leg.stdout for leg in run["process"].children]
    assert batches == ["0 1 a\n1 2 a\n2 3 a\n", "3 1 b\n4 2 b\n5 3 b\n"]
    local = local_example("grid")
    assert s3_snapshot(EXAMPLES / "grid.py", "grid-legs", s3_bucket) == local.snapshot
    with s3_environment(s3_bucket):
        results = load_flow(str(EXAMPLES / "grid.py")).results("grid-legs", s3_bucket.url(PREFIX))
        assert results["Process"].tasks() == 6


def write_flow(directory: Path, source: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "flow.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


HUGE = """
    from laminar import Flow, ForEach, Layer, Parameter


    class HugeFlow(Flow): ...


    @HugeFlow.register
    class Source(Layer):
        def __call__(self) -> None:
            self.shard(item=range(100_000))


    @HugeFlow.register(foreach=ForEach(parameters=[Parameter(layer=Source, attribute="item")]))
    class Work(Layer):
        def __call__(self, source: Source) -> None:
            self.double = source.item * 2
"""


def test_hundred_thousand_tasks_plan_as_one_small_number(
    s3_bucket: S3Bucket, tmp_path: Path
) -> None:
    app = tmp_path / "app"
    write_flow(app, HUGE)
    manifest = compile_argo("flow.py", app, s3_bucket)
    assert len(manifest.encode()) < 10_000
    # Run the source (which plans Work) only: 100,000 pods are not the point here.
    doc = yaml.safe_load(manifest)
    (dag,) = [t for t in doc["spec"]["templates"] if t["name"] == doc["spec"]["entrypoint"]]
    (work,) = [t for t in dag["dag"]["tasks"] if t["name"] == "work"]
    assert work["withSequence"] == {"count": "{{tasks.source.outputs.parameters.legs-work}}"}
    dag["dag"]["tasks"].remove(work)
    doc["spec"]["templates"] = [t for t in doc["spec"]["templates"] if t["name"] != "work"]
    assert_valid_workflow(doc)
    run = harness(tmp_path / "run", s3_bucket, app).run(doc, name="huge-e2e01")
    assert run.phase == SUCCEEDED, run.describe()
    assert run["source"].outputs["legs-work"] == "100000"


CRASHING = """
    import os
    import signal

    from laminar import Flow, ForEach, Layer, Parameter, Retry


    class CrashFlow(Flow): ...


    @CrashFlow.register
    class Source(Layer):
        def __call__(self) -> None:
            self.shard(item=[1, 2, 3])


    @CrashFlow.register(
        foreach=ForEach(parameters=[Parameter(layer=Source, attribute="item")]),
        retry=Retry(attempts=3, delay=1, backoff=2),
    )
    class Work(Layer):
        def __call__(self, source: Source) -> None:
            crash = os.environ.get("CRASH_NOW") == "1"
            # Written to the datastore at once, before the task's commit.
            self.shard(parts=[-1, -1] if crash else [source.item, source.item * 10])
            if crash:
                os.kill(os.getpid(), signal.SIGKILL)
            self.value = source.item * 100


    @CrashFlow.register
    class Total(Layer):
        def __call__(self, work: Work) -> None:
            self.values = list(work.value)
            self.parts = [list(parts) for parts in work.parts]
            print("total", sum(self.values))
"""


def test_task_killed_half_way_is_retried_and_leaves_no_partial_result(
    s3_bucket: S3Bucket, tmp_path: Path
) -> None:
    app = tmp_path / "app"
    flow = write_flow(app, CRASHING)
    manifest = compile_argo("flow.py", app, s3_bucket)

    def kill_first_attempt_of_leg_one(attempt: Attempt) -> None:
        if attempt.template == "work" and attempt.env.get("LAMINAR_LEG") == "1":
            attempt.env["CRASH_NOW"] = "1" if attempt.number == 0 else "0"

    cluster = harness(
        tmp_path / "run", s3_bucket, app, prepare_attempt=kill_first_attempt_of_leg_one
    )
    run = cluster.run(manifest, name="crash-e2e01")
    assert run.phase == SUCCEEDED, run.describe()
    legs = run["work"].children
    assert [len(leg.attempts) for leg in legs] == [1, 2, 1]
    assert legs[1].attempts[0].exit_code == -9
    assert legs[1].attempts[1].phase == SUCCEEDED
    # Argo's backoff between the attempts: Retry(delay=1) became `duration: 1s`.
    assert legs[1].attempts[1].delay == 1.0

    local = run_locally(flow, tmp_path / "local", app)
    assert local.snapshot["Total"] == {
        "values": [100, 200, 300],
        "parts": [[1, 10], [2, 20], [3, 30]],
    }
    assert s3_snapshot(flow, "crash-e2e01", s3_bucket) == local.snapshot
    assert run["total"].stdout == "total 600\n"
    # The killed attempt did write its data (a second attempt directory of task 1), but
    # only one manifest commits task 1 and nothing reads the orphaned files.
    base = f"{PREFIX}/CrashFlow/crash-e2e01/Work"
    orphan = f"{base}/data/1/"
    attempts = {key[len(orphan) :].split("/")[0] for key in s3_bucket.keys(orphan)}
    assert len(attempts) == 2
    assert s3_bucket.keys(f"{base}/tasks/") == [f"{base}/tasks/{i}.manifest" for i in range(3)]


RESUMABLE = """
    import os
    from pathlib import Path

    from laminar import Flow, ForEach, Layer, Parameter


    def mark(what: str) -> None:
        with open(os.environ["SIDE_EFFECTS"], "a", encoding="utf-8") as log:
            log.write(what + "\\n")


    class ResumeFlow(Flow): ...


    @ResumeFlow.register
    class Source(Layer):
        def __call__(self) -> None:
            mark("Source")
            self.shard(item=[1, 2])


    @ResumeFlow.register(foreach=ForEach(parameters=[Parameter(layer=Source, attribute="item")]))
    class Work(Layer):
        def __call__(self, source: Source) -> None:
            mark(f"Work {self.index}")
            self.value = source.item + 1


    @ResumeFlow.register
    class Report(Layer):
        def __call__(self, work: Work) -> None:
            mark("Report")
            if Path(os.environ["FAIL_MARKER"]).exists():
                raise RuntimeError("the report is broken today")
            self.total = sum(work.value)
"""


def test_rerun_with_the_same_name_reuses_committed_results(
    s3_bucket: S3Bucket, tmp_path: Path
) -> None:
    app = tmp_path / "app"
    flow = write_flow(app, RESUMABLE)
    manifest = compile_argo("flow.py", app, s3_bucket)
    log, marker = tmp_path / "side-effects.log", tmp_path / "fail"
    marker.touch()
    env = {"SIDE_EFFECTS": str(log), "FAIL_MARKER": str(marker)}
    cluster = harness(tmp_path / "run", s3_bucket, app, env=env)

    first = cluster.run(manifest, name="resume-e2e01")
    assert first.phase != SUCCEEDED
    assert first["report"].phase != SUCCEEDED
    assert "the report is broken today" in first["report"].stderr
    assert sorted(log.read_text().splitlines()) == ["Report", "Source", "Work 0", "Work 1"]

    marker.unlink()
    log.write_text("")
    second = cluster.run(manifest, name="resume-e2e01")
    assert second.phase == SUCCEEDED, second.describe()
    # Every pod ran again, but only the failed layer did any work.
    assert all(node.attempts for node in second.walk() if not node.children)
    assert log.read_text().splitlines() == ["Report"]

    local = run_locally(flow, tmp_path / "local", app, env=env)
    assert local.snapshot["Report"] == {"total": 5}
    assert s3_snapshot(flow, "resume-e2e01", s3_bucket) == local.snapshot


def test_hostile_names_and_values_run_on_argo(s3_bucket: S3Bucket, tmp_path: Path) -> None:
    """Keywords, builtins and options as layer names, code and line breaks of every kind in
    the flow's name, and an env value full of quotes, braces, DEL, C1 and U+2028: the manifest
    passes the strict schema, every pod gets the exact value, the results equal a local run."""
    flow = ROOT / "tests" / "flows" / "hostile.py"
    manifest = compile_argo(str(flow.relative_to(ROOT)), ROOT, s3_bucket)
    run = harness(tmp_path, s3_bucket, ROOT).run(manifest, name="hostile-e2e")
    assert run.phase == SUCCEEDED, run.describe()
    local = run_locally(flow, tmp_path / "local", ROOT)
    snapshot = s3_snapshot(flow, "hostile-e2e", s3_bucket)
    # Container(env=...) is the pod's environment; a local run does not set it.
    from flows.hostile import VALUE

    assert snapshot["--help"].pop("env") == VALUE
    assert local.snapshot["--help"].pop("env") == ""
    assert snapshot == local.snapshot


def test_inputs_reach_every_pod_unchanged(s3_bucket: S3Bucket, tmp_path: Path) -> None:
    """Workflow parameters, given as `argo submit -p` would, reach every pod exactly (quotes,
    $(VAR), $$, {{ }}, ${{ }} and line breaks included) and the results equal a local run."""
    from flows.inputs import GIVEN

    flow = ROOT / "tests" / "flows" / "inputs.py"
    manifest = compile_argo(str(flow.relative_to(ROOT)), ROOT, s3_bucket)
    declared = yaml.safe_load(manifest)["spec"]["arguments"]["parameters"]
    assert declared[0] == {"name": "note"}  # required: no default
    assert {"name": "mode", "value": "fast", "enum": ["fast", "full"]} in declared
    run = harness(tmp_path, s3_bucket, ROOT).run(manifest, name="inputs-e2e", parameters=GIVEN)
    assert run.phase == SUCCEEDED, run.describe()
    options = [f"-p{name}={value}" for name, value in GIVEN.items()]
    result = laminar(
        "run", str(flow), "--datastore", str(tmp_path / "local"), "--execution", "local", "-q",
        *options, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0
    local = load_flow(str(flow)).results("local", datastore=str(tmp_path / "local")).snapshot()
    snapshot = s3_snapshot(flow, "inputs-e2e", s3_bucket)
    assert snapshot == local
    assert snapshot["Source"]["seen"]["note"] == GIVEN["note"]
    assert snapshot["Report"]["outs"] == ["full:0.0", "full:0.25", "full:0.5"]


def test_a_signed_datastore_on_argo(s3_bucket: S3Bucket, tmp_path: Path) -> None:
    """With --signing-key-secret every pod gets the key from the secret (never from the
    manifest), signs what it commits and checks what it reads; a reader with another key is
    refused."""
    manifest = compile_argo(
        "examples/join.py", ROOT, s3_bucket, "--signing-key-secret", "laminar-signing"
    )
    assert "correct horse" not in manifest
    cluster = harness(tmp_path, s3_bucket, ROOT)
    cluster.settings.secrets["laminar-signing"] = {"LAMINAR_SIGNING_KEY": "correct horse"}
    run = cluster.run(manifest, name="signed-e2e")
    assert run.phase == SUCCEEDED, run.describe()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LAMINAR_SIGNING_KEY", "correct horse")
        signed = s3_snapshot(EXAMPLES / "join.py", "signed-e2e", s3_bucket)
        local = run_locally(EXAMPLES / "join.py", tmp_path / "local", ROOT).snapshot
        assert signed == local
        patch.setenv("LAMINAR_SIGNING_KEY", "another key")
        with pytest.raises(Exception, match="LAMINAR_SIGNING_KEY"):
            s3_snapshot(EXAMPLES / "join.py", "signed-e2e", s3_bucket)


def test_guard_rails_run_on_argo(s3_bucket: S3Bucket, tmp_path: Path) -> None:
    """Timeouts as activeDeadlineSeconds, and a fan-out capped at two pods at once in a DAG
    template of its own: the records equal a local run."""
    flow = ROOT / "tests" / "flows" / "guarded.py"
    manifest = compile_argo(str(flow.relative_to(ROOT)), ROOT, s3_bucket)
    run = harness(tmp_path, s3_bucket, ROOT, concurrency=4).run(manifest, name="guarded-e2e")
    assert run.phase == SUCCEEDED, run.describe()
    local = run_locally(flow, tmp_path / "local", ROOT)
    assert s3_snapshot(flow, "guarded-e2e", s3_bucket) == local.snapshot


def test_a_pod_past_its_deadline_fails_the_workflow(s3_bucket: S3Bucket, tmp_path: Path) -> None:
    """register(timeout=2) on a layer that hangs: the pod is stopped (by the shim's own timer
    or the template's activeDeadlineSeconds) and the workflow fails; the next layer never runs."""
    flow = write_flow(
        tmp_path,
        """
        import time
        from laminar import Flow, Layer

        class Hangs(Flow): ...

        @Hangs.register(timeout=2)
        class Hang(Layer):
            def __call__(self) -> None:
                time.sleep(120)
                self.done = True

        @Hangs.register
        class After(Layer):
            def __call__(self, hang: Hang) -> None:
                self.done = True
        """,
    )
    manifest = compile_argo(str(flow), tmp_path, s3_bucket)
    template = next(t for t in yaml.safe_load(manifest)["spec"]["templates"] if t["name"] == "hang")
    assert template["activeDeadlineSeconds"] == 2
    run = harness(tmp_path / "run", s3_bucket, tmp_path).run(manifest, name="hangs-e2e")
    assert run.phase == FAILED, run.describe()
    assert run["hang"].phase == FAILED
    assert "after" not in run.nodes or run["after"].phase != SUCCEEDED


def test_a_layers_secret_comes_from_the_env_secret_only_for_its_pods(
    s3_bucket: S3Bucket, tmp_path: Path
) -> None:
    """Container(secrets=[...]) as a secretKeyRef into --env-secret: Pull's pod sees the
    value, Train's does not, and the value is in no manifest or datastore object."""
    value = "kubernetes-secret-value/with+slash="
    flow = ROOT / "tests" / "flows" / "placed.py"
    manifest = compile_argo(str(flow.relative_to(ROOT)), ROOT, s3_bucket, "--env-secret", "team")
    assert value not in manifest
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    s3 = {"AWS_ACCESS_KEY_ID": s3_bucket.access_key, "AWS_SECRET_ACCESS_KEY": s3_bucket.secret_key}
    cluster = ArgoHarness(
        tmp_path, env={"PATH": path}, secrets={SECRET: s3, "team": {"WAREHOUSE_TOKEN": value}},
        image_workdir=ROOT, concurrency=2,
    )  # fmt: skip
    run = cluster.run(manifest, name="placed-e2e")
    assert run.phase == SUCCEEDED, run.describe()
    snapshot = s3_snapshot(flow, "placed-e2e", s3_bucket)
    assert snapshot["Train"]["sees_token"] is False
    assert len(snapshot["Pull"]["token_digest"]) == 12
    assert all(value not in node.stdout + node.stderr for node in run.walk())


@pytest.mark.parametrize(("flow", "phase"), [("Alerting", SUCCEEDED), ("AlertingFails", FAILED)])
def test_exit_hooks_run_once_in_the_exit_handler(
    flow: str, phase: str, s3_bucket: S3Bucket, tmp_path: Path
) -> None:
    """onExit runs laminar exit once the workflow ends, whatever happened, told
    {{workflow.status}}; the hook is told the failed task."""
    reference = f"tests/flows/exits.py:{flow}"
    manifest = compile_argo(reference, ROOT, s3_bucket)
    markers = tmp_path / "markers"
    markers.mkdir()
    cluster = harness(tmp_path / "run", s3_bucket, ROOT, env={"LAMINAR_TEST_MARKERS": str(markers)})
    run = cluster.run(manifest, name=f"{flow.lower()}-e2e")
    assert run.phase == phase, run.describe()
    assert run["onExit"].phase == SUCCEEDED
    lines = (markers / f"exit-{flow.lower()}-e2e").read_text().splitlines()
    assert len(lines) == 1
    told = json.loads(lines[0])
    assert told["succeeded"] is (phase == SUCCEEDED)
    if phase == FAILED:
        assert told["failures"] == [["Breaks", 1, "ValueError: item 2 is broken", 1]]


def test_self_attempt_is_argos_try_number(s3_bucket: S3Bucket, tmp_path: Path) -> None:
    """A layer that fails on its first attempt only: Argo retries the pod, and the retry
    sees self.attempt == 2 ({{retries}} + 1), so it succeeds."""
    flow = write_flow(
        tmp_path,
        """
        from laminar import Flow, Layer, Retry

        class Once(Flow): ...

        @Once.register(retry=Retry(attempts=3, delay=0))
        class FirstTryFails(Layer):
            def __call__(self) -> None:
                if self.attempt == 1:
                    raise RuntimeError("the first attempt fails on purpose")
                self.tried = self.attempt
        """,
    )
    manifest = compile_argo(str(flow), tmp_path, s3_bucket)
    run = harness(tmp_path / "run", s3_bucket, tmp_path).run(manifest, name="once-e2e")
    assert run.phase == SUCCEEDED, run.describe()
    (node,) = run.nodes.values()
    assert len(node.attempts) == 2
    assert s3_snapshot(flow, "once-e2e", s3_bucket)["FirstTryFails"]["tried"] == 2


def test_a_cron_workflow_run_processes_its_scheduled_day(
    s3_bucket: S3Bucket, tmp_path: Path
) -> None:
    """LogicalDate() on Argo: the CronWorkflow run's {{workflow.scheduledTime}}, in the
    schedule's timezone (02:30 UTC on the 24th is the 25th in Paris)."""
    manifest = compile_argo("examples/nightly.py", ROOT, s3_bucket)
    assert yaml.safe_load(manifest)["kind"] == "CronWorkflow"
    run = harness(tmp_path, s3_bucket, ROOT).run(
        manifest, name="nightly-e2e", scheduled_time="2026-11-24T23:30:00Z"
    )
    assert run.phase == SUCCEEDED, run.describe()
    snapshot = s3_snapshot(EXAMPLES / "nightly.py", "nightly-e2e", s3_bucket)
    assert snapshot["Extract"]["partition"] == "day=2026-11-25"


def test_logical_date_inputs_of_each_type_take_the_scheduled_time(
    s3_bucket: S3Bucket, tmp_path: Path
) -> None:
    """Text, ``datetime.date`` and ``datetime.datetime`` LogicalDate() inputs of a CronWorkflow
    run: the scheduled day, and the scheduled time itself, in the schedule's timezone."""
    from flows.dated import EXPECTED, LOGICAL

    flow = ROOT / "tests" / "flows" / "dated.py"
    manifest = compile_argo(str(flow.relative_to(ROOT)), ROOT, s3_bucket)
    run = harness(tmp_path, s3_bucket, ROOT).run(
        manifest, name="dated-e2e", scheduled_time=LOGICAL.replace("+00:00", "Z")
    )
    assert run.phase == SUCCEEDED, run.describe()
    assert s3_snapshot(flow, "dated-e2e", s3_bucket)["Read"]["seen"] == EXPECTED
