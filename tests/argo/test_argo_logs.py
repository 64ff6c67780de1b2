"""Issue 27: what an Argo pod printed and how it failed is read back with ``laminar logs`` and
``laminar show``, from the datastore, as for a local run (the shim records it in the pod)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import laminar

from .nodes import SUCCEEDED
from .pods import Attempt
from .s3 import S3Bucket
from .test_argo_e2e import PREFIX, compile_argo, harness, write_flow

pytestmark = pytest.mark.e2e  # run on the Argo harness, like test_argo_e2e.py

FLAKY = """
    import os
    from laminar import Flow, ForEach, Layer, Parameter, Retry


    class FlakyFlow(Flow): ...


    @FlakyFlow.register
    class Source(Layer):
        def __call__(self) -> None:
            self.shard(item=[1, 2, 3])


    @FlakyFlow.register(
        foreach=ForEach(parameters=[Parameter(layer=Source, attribute="item")]),
        retry=Retry(attempts=2, delay=0),
    )
    class Work(Layer):
        def __call__(self, source: Source) -> None:
            print("working on", source.item)
            if os.environ.get("FAIL_NOW") == "1":
                raise ConnectionError(f"item {source.item}: the network blinked")
            self.value = source.item * 100
"""


def test_a_pods_output_and_failed_attempt_are_read_back(
    s3_bucket: S3Bucket, tmp_path: Path
) -> None:
    app = tmp_path / "app"
    write_flow(app, FLAKY)
    manifest = compile_argo("flow.py", app, s3_bucket)

    def fail_first_attempt_of_leg_one(attempt: Attempt) -> None:
        if attempt.template == "work" and attempt.env.get("LAMINAR_LEG") == "1":
            attempt.env["FAIL_NOW"] = "1" if attempt.number == 0 else "0"

    cluster = harness(
        tmp_path / "run", s3_bucket, app, prepare_attempt=fail_first_attempt_of_leg_one
    )
    run = cluster.run(manifest, name="flaky-e2e01")
    assert run.phase == SUCCEEDED, run.describe()
    # The pod's own log (what Argo shows) is unchanged: the output is still printed there.
    assert run["work"].children[0].stdout == "working on 1\n"
    store = ["--datastore", s3_bucket.url(PREFIX)]
    env = s3_bucket.env()
    logs = laminar("logs", "flow.py", "Work[1]", "--execution", "flaky-e2e01", *store,
                   cwd=app, env=env).stdout  # fmt: skip
    failed, finished = logs.split("==> ")[1:]
    assert failed.startswith("Work[1] attempt 1, failed: ConnectionError: item 2: the network ")
    assert "--- stdout ---\nworking on 2\n" in failed and "--- traceback ---\n" in failed
    # Argo retried the pod: its second try is attempt 2 ({{retries}} + 1), as Argo counts.
    assert finished == "Work[1] attempt 2, finished <==\n--- stdout ---\nworking on 2\n"
    listed = laminar("show", "flow.py", *store, cwd=app, env=env).stdout
    assert listed.startswith("flaky-e2e01  succeeded  started ")
