"""Fixtures of the Argo test folder: a session-wide local S3 server and a bucket per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .s3 import MotoServer, S3Bucket


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    with MotoServer.start() as server:
        yield server


@pytest.fixture
def s3_bucket(moto_server: MotoServer) -> S3Bucket:
    """A fresh, empty bucket on the local S3 server."""
    return moto_server.bucket()
