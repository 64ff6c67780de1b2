"""The local S3 server is a working S3 API for s3fs, in-process and in task processes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import s3fs  # type: ignore[import-untyped]

from .s3 import S3Bucket

READ_WRITE = """
import fsspec
with fsspec.open("{url}/from-child.txt", "w") as f:
    f.write("child")
with fsspec.open("{url}/from-test.txt") as f:
    print(f.read().decode())
"""


def test_s3fs_writes_and_reads_through_the_local_server(s3_bucket: S3Bucket) -> None:
    fs = s3fs.S3FileSystem(**s3_bucket.storage_options())
    fs.pipe(f"{s3_bucket.name}/a/b.txt", b"hello")
    assert fs.cat(f"{s3_bucket.name}/a/b.txt") == b"hello"
    assert s3_bucket.keys() == ["a/b.txt"]


@pytest.mark.parametrize("endpoint_var", ["FSSPEC_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL"])
def test_a_process_finds_the_server_from_one_endpoint_variable(
    s3_bucket: S3Bucket, endpoint_var: str
) -> None:
    s3_bucket.client().put_object(Bucket=s3_bucket.name, Key="p/from-test.txt", Body=b"test")
    env = {k: v for k, v in s3_bucket.env().items() if "ENDPOINT" not in k}
    env[endpoint_var] = s3_bucket.endpoint_url
    env["PATH"] = os.environ.get("PATH", "")
    script = READ_WRITE.format(url=s3_bucket.url("p"))
    proc = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "test\n"
    assert s3_bucket.keys("p/") == ["p/from-child.txt", "p/from-test.txt"]


def test_buckets_are_separate(s3_bucket: S3Bucket) -> None:
    assert s3_bucket.keys() == []
