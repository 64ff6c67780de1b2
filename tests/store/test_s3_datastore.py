"""laminar run, show and the results API against a real S3 API (a local moto server)."""

from __future__ import annotations

from pathlib import Path

from argo.s3 import S3Bucket
from conftest import EXAMPLES, laminar


def test_run_and_show_on_s3(s3_bucket: S3Bucket, tmp_path: Path) -> None:
    url = s3_bucket.url("flows")
    env = s3_bucket.env()
    run = laminar("run", str(EXAMPLES / "join.py"), "--datastore", url, "--execution", "s3run",
                  cwd=tmp_path, env=env)  # fmt: skip
    assert run.stdout == "[1, 2]\n2\n"
    assert not (tmp_path / ".laminar").exists()
    keys = s3_bucket.keys("flows/JoinFlow/s3run/")
    assert any(k.endswith("execution.json") for k in keys)
    assert any(k.startswith("flows/JoinFlow/s3run/Process/tasks/") for k in keys)
    shown = laminar("show", str(EXAMPLES / "join.py"), "Process.foo", cwd=tmp_path,
                    env={**env, "LAMINAR_DATASTORE": url})  # fmt: skip
    assert shown.stdout == "[0] 1\n[1] 2\n"
    # Resuming on S3 skips committed work, as on a local disk.
    again = laminar("run", str(EXAMPLES / "join.py"), "--datastore", url, "--execution", "s3run",
                    cwd=tmp_path, env=env)  # fmt: skip
    assert "Shard: already committed" in again.stderr
