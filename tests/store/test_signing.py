"""Signed stores (``LAMINAR_SIGNING_KEY``): unsigned or tampered objects are refused before
anything is unpickled, on local disk and on S3; first-writer-wins commits on S3."""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import pytest
from argo.s3 import S3Bucket
from conftest import laminar

from laminar.contract import ENV_SIGNING_KEY
from laminar.store.datastore import Datastore
from laminar.store.execution import Execution, Manifest
from laminar.store.integrity import Seal
from store.flows import only, pipeline

KEY = "correct horse battery staple"


class Exploit:
    """A pickle that, when loaded, creates a marker file: what an attacker would plant."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (self.marker, "w"))


def _plant(data: bytes, marker: Path, seal: Seal) -> bytes:
    """A manifest whose inline value runs code, sealed with ``seal`` (no key, or a wrong one)."""
    raw = pickle.loads(Seal(None).unseal(data, "manifest", ""))
    raw["attributes"]["small"] = ("value", pickle.dumps(Exploit(str(marker))))
    return seal.seal(pickle.dumps(raw))


@pytest.fixture
def signed(tmp_path: Path) -> Path:
    pipeline(tmp_path)
    laminar("run", "pipe.py", "--execution", "e", cwd=tmp_path, env={ENV_SIGNING_KEY: KEY})
    return tmp_path / ".laminar" / "Pipe" / "e"


def show(tmp_path: Path, target: str, key: str | None) -> Any:
    env = {ENV_SIGNING_KEY: key} if key else {}
    env.update({k: v for k, v in os.environ.items() if k != ENV_SIGNING_KEY})
    if not key:
        env.pop(ENV_SIGNING_KEY, None)
    return laminar("show", "pipe.py", "--execution", "e", target, cwd=tmp_path, env=env,
                   check=False)  # fmt: skip


def test_signed_store_reads_back_with_the_key(signed: Path, tmp_path: Path) -> None:
    assert show(tmp_path, "Sum.total", KEY).stdout == f"{sum(range(0, 40, 2)) + 100_041}\n"
    assert show(tmp_path, "Start.items", KEY).stdout.startswith("[0] 0\n")
    assert show(tmp_path, "Start.big", KEY).stdout == repr("x" * 100_000) + "\n"


@pytest.mark.parametrize("forger", ["unsigned", "wrong key"])
def test_tampered_manifest_is_refused_before_unpickling(
    signed: Path, tmp_path: Path, forger: str
) -> None:
    manifest = signed / "Start" / "tasks" / "main.manifest"
    marker = tmp_path / "pwned"
    seal = Seal(None) if forger == "unsigned" else Seal(b"attacker's key")
    manifest.write_bytes(_plant(manifest.read_bytes(), marker, seal))
    refused = show(tmp_path, "Start.small", KEY)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    expected = "is not signed" if forger == "unsigned" else "has a signature that does not match"
    assert f"The commit of layer Start task main ({manifest}) {expected}" in refused.stderr
    assert "refusing to unpickle it" in refused.stderr
    assert not marker.exists()
    # Without the key the checksum is all a reader has: it cannot tell (the docs say so).
    show(tmp_path, "Start.small", None)
    assert marker.exists()


def test_tampered_chunk_and_value_file_are_refused(signed: Path, tmp_path: Path) -> None:
    # Rewrite a chunk and a value file, then forge the manifest's tags for them (crc only).
    execution = Execution(Datastore(str(tmp_path / ".laminar")), "Pipe", "e", seal=Seal(None))
    manifest = execution.commits.read_manifest("Start", "main")
    assert manifest is not None
    value = only(signed, "big.value")
    value.write_bytes(pickle.dumps(Exploit(str(tmp_path / "pwned"))))
    relative, _ = manifest.attributes["big"][1]
    manifest.attributes["big"] = ("file", (relative, Seal(None).tag(value.read_bytes())))
    path = signed / "Start" / "tasks" / "main.manifest"
    raw = {"layer": "Start", "task": "main", "attributes": manifest.attributes}
    place = ("Pipe", "e", "Start", "main", "manifest")  # the insider has the key...
    path.write_bytes(Seal(KEY.encode()).seal(pickle.dumps(raw), place))
    assert show(tmp_path, "Start.small", KEY).stdout == "41\n"
    refused = show(tmp_path, "Start.big", KEY)  # ...but not the value file's signature
    assert "Start.big: the file" in refused.stderr and "is not signed" in refused.stderr
    assert not (tmp_path / "pwned").exists()


def test_unsigned_store_is_refused_by_a_reader_with_a_key(tmp_path: Path) -> None:
    pipeline(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != ENV_SIGNING_KEY}
    laminar("run", "pipe.py", "--execution", "e", cwd=tmp_path, env=env)
    refused = show(tmp_path, "Start.small", KEY)
    assert refused.returncode == 2 and "is not signed, and LAMINAR_SIGNING_KEY is set" in (
        refused.stderr
    )
    plan = show(tmp_path, "Work.double", KEY)
    assert "The plan of ForEach layer Work" in plan.stderr and "is not signed" in plan.stderr


def test_signed_and_tampered_store_on_s3(s3_bucket: S3Bucket, tmp_path: Path) -> None:
    pipeline(tmp_path)
    url = s3_bucket.url("signed")
    env = {**s3_bucket.env(), ENV_SIGNING_KEY: KEY, "LAMINAR_DATASTORE": url}
    laminar("run", "pipe.py", "--execution", "e", cwd=tmp_path, env=env)
    shown = laminar("show", "pipe.py", "--execution", "e", "Work.double", cwd=tmp_path, env=env)
    assert shown.stdout == "".join(f"[{i}] {2 * i}\n" for i in range(20))
    client = s3_bucket.client()
    key = "signed/Pipe/e/Start/tasks/main.manifest"
    data = client.get_object(Bucket=s3_bucket.name, Key=key)["Body"].read()
    marker = tmp_path / "pwned"
    client.put_object(Bucket=s3_bucket.name, Key=key, Body=_plant(data, marker, Seal(None)))
    refused = laminar("show", "pipe.py", "--execution", "e", "Start.small", cwd=tmp_path,
                      env=env, check=False)  # fmt: skip
    assert refused.returncode == 2 and "is not signed" in refused.stderr
    assert "refusing to unpickle it" in refused.stderr and not marker.exists()
    # A damaged chunk on S3 is caught as on a local disk.
    client.put_object(Bucket=s3_bucket.name, Key=key, Body=data)  # the manifest restored
    chunk = next(k for k in s3_bucket.keys("signed/Pipe/e/Start/data/") if k.endswith(".chunk"))
    body = bytearray(client.get_object(Bucket=s3_bucket.name, Key=chunk)["Body"].read())
    body[len(body) // 2] ^= 0xFF
    client.put_object(Bucket=s3_bucket.name, Key=chunk, Body=bytes(body))
    damaged = laminar("show", "pipe.py", "--execution", "e", "Start.items", cwd=tmp_path,
                      env=env, check=False)  # fmt: skip
    assert "Start.items: chunk" in damaged.stderr and "is damaged" in damaged.stderr
    # --rerun repairs it on S3 as on a local disk.
    rerun = laminar("run", "pipe.py", "--execution", "e", "--rerun", "Start", cwd=tmp_path,
                    env=env)  # fmt: skip
    assert "re-running Start, Work, Sum" in rerun.stderr and rerun.stdout.count("ran Work") == 20
    repaired = laminar("show", "pipe.py", "--execution", "e", "Start.items", cwd=tmp_path, env=env)
    assert repaired.stdout == "".join(f"[{i}] {i}\n" for i in range(20))


def test_commits_on_s3_are_first_writer_wins(
    s3_bucket: S3Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in s3_bucket.env().items():
        monkeypatch.setenv(name, value)
    url = s3_bucket.url("race")
    one = Execution(Datastore(url), "F", "e")
    two = Execution(Datastore(url), "F", "e")
    assert one.commit(Manifest("L", "main", {"v": ("value", b"1")})) is True
    assert two.commit(Manifest("L", "main", {"v": ("value", b"2")})) is False
    fresh = Execution(Datastore(url), "F", "e").commits.read_manifest("L", "main")
    assert fresh is not None and fresh.attributes["v"] == ("value", b"1")
