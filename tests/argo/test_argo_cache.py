"""Caching across executions on the Argo harness (issue 23): two workflows of a flow in one
datastore, the second served from the cache with identical results, then a third submitted
with ``-p laminar_no_cache=true`` that runs every task."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT, laminar
from flows.cached import EXPECTED, SERVED

from .nodes import SUCCEEDED
from .s3 import S3Bucket
from .test_argo_e2e import PREFIX, compile_argo, harness, s3_snapshot

pytestmark = pytest.mark.e2e  # run on the Argo harness, like test_argo_e2e.py

FLOW = "tests/flows/cached.py"


def shown(execution: str, bucket: S3Bucket) -> str:
    datastore = ("--datastore", bucket.url(PREFIX))
    result = laminar("show", FLOW, "--execution", execution, *datastore, cwd=ROOT, env=bucket.env())
    return result.stdout


def test_a_second_workflow_is_served_from_the_cache_and_the_switch_ignores_it(
    s3_bucket: S3Bucket, tmp_path: Path
) -> None:
    manifest = compile_argo(FLOW, ROOT, s3_bucket)
    cluster = harness(tmp_path, s3_bucket, ROOT)
    runs = {
        "cached-one": {},
        "cached-two": {},
        "cached-three": {"laminar_no_cache": "true"},
    }
    for name, parameters in runs.items():
        run = cluster.run(manifest, name=name, parameters=parameters)
        assert run.phase == SUCCEEDED, run.describe()
        assert s3_snapshot(ROOT / FLOW, name, s3_bucket) == EXPECTED
    for line in SERVED:
        assert line.format(first="cached-one") in shown("cached-two", s3_bucket)
    assert "cached from" not in shown("cached-three", s3_bucket)
