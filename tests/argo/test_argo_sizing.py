"""Pods sized by ``@hooks.submission`` and ``@hooks.retry`` on Argo (issue 25): the plan runs
the hooks and writes each leg's resources per attempt; the mapped template's ``podSpecPatch``
gives each pod those of its leg and try. Compiled by the real CLI and run by the harness,
which evaluates the patch when it creates each pod, as Argo does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ROOT
from runtime.test_resource_hooks import GROWING

from .nodes import SUCCEEDED
from .s3 import S3Bucket
from .test_argo_e2e import compile_argo, harness, s3_snapshot, write_flow

pytestmark = pytest.mark.e2e  # run on the Argo harness, like test_argo_e2e.py

FLOW = ROOT / "tests" / "flows" / "sized.py"


def run_flow(source: str, bucket: S3Bucket, tmp_path: Path) -> tuple[str, Path]:
    flow = write_flow(tmp_path, source)
    return compile_argo(str(flow), tmp_path, bucket), flow


def test_a_submission_hook_sizes_each_pod_of_a_foreach(s3_bucket: S3Bucket, tmp_path: Path) -> None:
    manifest = compile_argo(str(FLOW.relative_to(ROOT)), ROOT, s3_bucket)
    run = harness(tmp_path, s3_bucket, ROOT).run(manifest, name="sized-e2e")
    assert run.phase == SUCCEEDED, run.describe()
    pods = {leg.attempts[0].env["LAMINAR_LEG"]: leg.attempts[0] for leg in run["b"].children}
    asked = {leg: pod.resources["requests"] for leg, pod in sorted(pods.items())}
    assert asked == {
        "0": {"cpu": "1", "memory": "1000M"},
        "1": {"cpu": "1", "memory": "2000M"},
        "2": {"cpu": "1", "memory": "3000M"},
    }
    assert all(pod.resources["limits"] == pod.resources["requests"] for pod in pods.values())
    # What travelled through Argo: the count, and per leg and try the quantities. A's pod
    # decides them as it ends (same image and environment as B's: only cpu/memory differ).
    assert "b-plan" not in run.nodes
    planned = json.loads(run["a"].outputs["resources-b"])
    assert [[size["memory"] for size in leg] for leg in planned] == [
        ["1000M", "2000M", "4000M"], ["2000M", "4000M", "8000M"], ["3000M", "6000M", "12000M"],
    ]  # fmt: skip
    assert list(s3_snapshot(FLOW, "sized-e2e", s3_bucket)["B"]["memory"]) == [1000, 2000, 3000]


def test_a_leg_of_several_tasks_asks_for_its_largest(s3_bucket: S3Bucket, tmp_path: Path) -> None:
    flow = str(FLOW.relative_to(ROOT))
    manifest = compile_argo(flow, ROOT, s3_bucket, "--max-legs", "2")
    run = harness(tmp_path, s3_bucket, ROOT).run(manifest, name="capped-e2e")
    assert run.phase == SUCCEEDED, run.describe()
    memory = sorted(leg.attempts[0].resources["requests"]["memory"] for leg in run["b"].children)
    assert memory == ["1000M", "3000M"]  # tasks [0] and [1, 2]


def test_a_retry_hook_grows_the_pod_on_each_retry(s3_bucket: S3Bucket, tmp_path: Path) -> None:
    manifest, flow = run_flow(GROWING, s3_bucket, tmp_path)
    run = harness(tmp_path / "run", s3_bucket, tmp_path).run(manifest, name="growing-e2e")
    assert run.phase == SUCCEEDED, run.describe()
    (leg,) = run["train"].children
    memory = [attempt.resources["limits"]["memory"] for attempt in leg.attempts]
    assert memory == ["1000M", "2000M", "4000M"]  # out of memory twice, then it fits
    assert [a.phase for a in leg.attempts] == ["Failed", "Failed", SUCCEEDED]
    assert s3_snapshot(flow, "growing-e2e", s3_bucket)["Train"]["memory"] == 4000


def test_a_fan_out_over_a_layer_in_the_same_container_is_sized_by_its_upstreams_pod(
    s3_bucket: S3Bucket, tmp_path: Path
) -> None:
    """No planning pod (issue 24): A's pod plans B, its hooks included, as it ends; a capped
    fan-out (ForEach(concurrency=...)) hands each leg its resources through its wrapper."""
    source = FLOW.read_text(encoding="utf-8").replace(
        "    container=Container(cpu=1, memory=500),\n", ""
    )
    source = source.replace("ForEach(parameters=", "ForEach(concurrency=2, parameters=")
    manifest, _ = run_flow(source, s3_bucket, tmp_path)
    assert "b-plan" not in manifest and "--plan-resources=B=" in manifest
    run = harness(tmp_path / "run", s3_bucket, tmp_path).run(manifest, name="fused-e2e")
    assert run.phase == SUCCEEDED, run.describe()
    assert set(run.nodes) == {"a", "b"}
    legs = [leg for node in run["b"].walk() for leg in [node] if leg.attempts]
    memory = sorted(leg.attempts[0].resources["limits"]["memory"] for leg in legs)
    assert memory == ["1000M", "2000M", "3000M"]
