"""A chain of flows on the Argo harness: ``Execution.next`` in the exit handler is refused
(Flow2 runs nowhere); deployed instead, the next workflow gets the first one's name (its
execution id) as an argument and reads its results from S3, equal to a local ``.next`` run.

The pods run this checkout's laminar (``PYTHONPATH``), as the image would hold it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from laminar.errors import LaminarError
from laminar.model.loader import load_flow

from .nodes import FAILED, SUCCEEDED, WorkflowRun
from .s3 import S3Bucket
from .test_argo_e2e import PREFIX, compile_argo, harness, s3_environment

pytestmark = pytest.mark.e2e  # run on the Argo harness, like test_argo_e2e.py

CHAINED = "tests/flows/chained.py"


def run(reference: str, bucket: S3Bucket, workdir: Path, name: str, **given: str) -> WorkflowRun:
    manifest = compile_argo(reference, ROOT, bucket)
    cluster = harness(workdir, bucket, ROOT, env={"PYTHONPATH": str(ROOT)})
    return cluster.run(manifest, name=name, parameters=given or None)


def test_a_chain_in_the_exit_handler_is_refused(s3_bucket: S3Bucket, tmp_path: Path) -> None:
    done = run(f"{CHAINED}:Hooked", s3_bucket, tmp_path, "hooked-e2e")
    assert done["a"].phase == SUCCEEDED
    assert done["onExit"].phase == FAILED, done.describe()  # the hook's .next raised
    assert "Execution.next in a deployed task of flow Hooked" in done["onExit"].stderr
    with s3_environment(s3_bucket), pytest.raises(LaminarError, match="Unknown execution"):
        flow2 = load_flow(f"{ROOT / CHAINED}:Flow2")(datastore=s3_bucket.url(PREFIX))
        flow2.execution("hooked-e2e").layer("B")


def test_the_next_workflow_reads_the_first_by_its_name_as_a_local_chain(
    s3_bucket: S3Bucket, tmp_path: Path
) -> None:
    first = run(f"{CHAINED}:Flow1", s3_bucket, tmp_path / "a", "first-e2e")
    assert first.phase == SUCCEEDED, first.describe()
    done = run(f"{CHAINED}:Linked", s3_bucket, tmp_path / "b", "linked-e2e", first="first-e2e")
    assert done.phase == SUCCEEDED, done.describe()
    subprocess.run(
        [sys.executable, str(ROOT / CHAINED), "--execution", "ref"], cwd=tmp_path, check=True,
        env={"LAMINAR_DATASTORE": str(tmp_path / "local"), "PYTHONPATH": str(ROOT)},
        capture_output=True,
    )  # fmt: skip
    local = load_flow(f"{ROOT / CHAINED}:Flow2").results("ref", str(tmp_path / "local"))
    with s3_environment(s3_bucket):
        linked = load_flow(f"{ROOT / CHAINED}:Linked").results("linked-e2e", s3_bucket.url(PREFIX))
        assert linked["Read"].foo == local["B"].foo == "bar"
