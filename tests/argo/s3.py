"""A real S3 API for tests: a local `moto` server on 127.0.0.1 and fresh buckets in it.

The server runs as its own process (`python -m moto.server`), so its state is isolated from
the test process and from other servers, and task processes reach it over HTTP exactly as
pods reach S3. Reuse from any test folder::

    from argo.s3 import MotoServer          # tests/ is on sys.path under pytest

    @pytest.fixture(scope="session")
    def moto_server() -> Iterator[MotoServer]:
        with MotoServer.start() as server:
            yield server

    def test_x(moto_server: MotoServer) -> None:
        s3 = moto_server.bucket()           # a new, empty bucket
        env = s3.env()                      # for subprocesses: s3fs/boto find the endpoint
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from typing import IO, Any

import boto3  # type: ignore[import-untyped]

ACCESS_KEY = "testing"
SECRET_KEY = "testing"
REGION = "us-east-1"


@dataclasses.dataclass(frozen=True)
class S3Bucket:
    """One bucket on the local server, with the settings a client needs to reach it."""

    endpoint_url: str
    name: str
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY
    region: str = REGION

    def url(self, prefix: str = "") -> str:
        return f"s3://{self.name}/{prefix}".rstrip("/")

    def env(self) -> dict[str, str]:
        """Environment for processes: credentials plus the endpoint in every form honoured.

        s3fs reads `FSSPEC_S3_ENDPOINT_URL` (fsspec config, read when fsspec is imported);
        botocore (and so s3fs through aiobotocore) reads `AWS_ENDPOINT_URL[_S3]`. Shared AWS
        config files are pointed at nothing so the host's profile cannot interfere.
        """
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ENDPOINT_URL_S3": self.endpoint_url,
            "FSSPEC_S3_ENDPOINT_URL": self.endpoint_url,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        }

    def storage_options(self) -> dict[str, Any]:
        """Keyword arguments for `s3fs.S3FileSystem` / fsspec in the test process itself."""
        return {
            "key": self.access_key,
            "secret": self.secret_key,
            "endpoint_url": self.endpoint_url,
            "client_kwargs": {"region_name": self.region},
            "skip_instance_cache": True,
        }

    def client(self) -> Any:
        """A boto3 S3 client for assertions (listing keys, reading objects)."""
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
        )

    def keys(self, prefix: str = "") -> list[str]:
        """Every object key under `prefix`, sorted."""
        paginator = self.client().get_paginator("list_objects_v2")
        pages = paginator.paginate(Bucket=self.name, Prefix=prefix)
        return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))


class MotoServer:
    """A `moto.server` process on 127.0.0.1 at a free port."""

    def __init__(
        self, process: subprocess.Popen[bytes], endpoint_url: str, log: IO[bytes] | None = None
    ) -> None:
        self.process = process
        self.endpoint_url = endpoint_url
        self.log = log
        self._names = itertools.count()

    @classmethod
    @contextlib.contextmanager
    def start(cls, timeout: float = 30.0) -> Iterator[MotoServer]:
        port = _free_port()
        # The server logs every request on stderr: a file, because a pipe nobody drains
        # fills up after a few hundred requests and then blocks the server for good.
        with tempfile.TemporaryFile() as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
            server = cls(process, f"http://127.0.0.1:{port}", log)
            try:
                server._wait_ready(timeout)
                yield server
            finally:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                err = ""
                if self.log is not None:
                    self.log.seek(0)
                    err = self.log.read().decode(errors="replace")
                raise RuntimeError(f"moto server exited ({self.process.returncode}): {err}")
            try:
                with urllib.request.urlopen(self.endpoint_url + "/moto-api/", timeout=1):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"moto server not ready at {self.endpoint_url}") from None
                time.sleep(0.1)

    def bucket(self, name: str | None = None) -> S3Bucket:
        """Create a new empty bucket (a unique name unless given) and describe it."""
        bucket = S3Bucket(self.endpoint_url, name or f"laminar-test-{next(self._names)}")
        bucket.client().create_bucket(Bucket=bucket.name)
        return bucket


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
