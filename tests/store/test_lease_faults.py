"""The lease under faults: a heartbeat that outlives a full disk, a lease really lost stops
the run with the reason, and a lease file with the wrong types is no traceback."""

from __future__ import annotations

import errno
import json
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import laminar

from laminar.store import lease as lease_module
from laminar.store.lease import ExecutionLeasedError, Lease
from store.flows import pipeline


@pytest.fixture
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lease_module, "HEARTBEAT", 0.05)
    monkeypatch.setenv("LAMINAR_LEASE_TIMEOUT", "1")


def _failing_writes(monkeypatch: pytest.MonkeyPatch, until: float) -> list[float]:
    """Make every lease write fail with ENOSPC until ``until`` (monotonic); returns the
    times of the failed writes."""
    failed: list[float] = []
    write = Lease._write

    def full_disk(self: Lease) -> None:
        if time.monotonic() < until:
            failed.append(time.monotonic())
            raise OSError(errno.ENOSPC, "No space left on device")
        write(self)

    monkeypatch.setattr(Lease, "_write", full_disk)
    return failed


def test_the_heartbeat_survives_a_disk_full_for_a_moment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fast: None
) -> None:
    path = tmp_path / "lease.json"
    with Lease(str(path), "r1", print) as holder:
        failed = _failing_writes(monkeypatch, time.monotonic() + 0.4)
        time.sleep(0.9)
        assert len(failed) >= 3  # it kept trying...
        holder.check()  # ...and still holds the lease
        beat = json.loads(path.read_text())["heartbeat"]
        assert time.time() - beat < 0.5  # renewed since the disk has room again
        assert not list(tmp_path.glob("lease.json.*[!k]"))  # no partial temporary file
    assert not path.exists()


def test_a_lease_not_renewed_for_the_timeout_stops_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fast: None
) -> None:
    with Lease(str(tmp_path / "lease.json"), "r1", print) as holder:
        _failing_writes(monkeypatch, time.monotonic() + 60)
        time.sleep(1.3)
        with pytest.raises(ExecutionLeasedError) as lost:
            holder.check()
    message = str(lost.value)
    assert "The lease on execution r1 was lost: it could not be renewed for" in message
    assert "No space left on device" in message and "committed tasks are kept" in message


WRONG = [
    {"owner": "x", "token": "t", "heartbeat": "yesterday"},
    {"owner": ["x"], "token": 5, "heartbeat": None, "pid": 10**30, "host": socket.gethostname()},
    {"owner": "x\x1b[31m", "heartbeat": float("inf")},
    {"heartbeat": float("nan"), "pid": -1, "host": socket.gethostname()},
    [1, 2, 3],
    "text",
]


@pytest.mark.parametrize("record", WRONG)
def test_a_lease_file_with_wrong_types_is_taken_over_with_a_message(
    tmp_path: Path, record: Any
) -> None:
    path = tmp_path / "lease.json"
    path.write_text(json.dumps(record))  # json writes inf and nan as Infinity and NaN
    said: list[str] = []
    with Lease(str(path), "r1", said.append):
        assert json.loads(path.read_text())["pid"] > 0  # ours now
    assert len(said) == 1 and said[0].startswith("taking over execution r1 from ")
    assert "\x1b" not in said[0]
    if isinstance(record, dict):
        assert "its lease file is damaged (no valid heartbeat time)" in said[0]


def test_a_run_takes_over_a_damaged_lease_without_a_traceback(tmp_path: Path) -> None:
    pipeline(tmp_path)
    lease = tmp_path / ".laminar" / "Pipe" / "r1" / "lease.json"
    lease.parent.mkdir(parents=True)
    lease.write_text(json.dumps({"owner": 3, "heartbeat": "soon", "pid": "1"}))
    result = laminar("run", "pipe.py", "--execution", "r1", cwd=tmp_path)
    assert "Traceback" not in result.stderr
    assert "taking over execution r1 from an unknown process: its lease file is damaged" in (
        result.stderr
    )


@pytest.mark.parametrize("value", ["soon", "0", "-5", "nan", "inf"])
def test_a_bad_lease_timeout_is_an_error_naming_the_variable(tmp_path: Path, value: str) -> None:
    pipeline(tmp_path)
    env = {"LAMINAR_LEASE_TIMEOUT": value}
    result = laminar("run", "pipe.py", "--execution", "r1", cwd=tmp_path, env=env, check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert (
        f"LAMINAR_LEASE_TIMEOUT must be a positive number of seconds (such as 30), not "
        f"'{value}'" in result.stderr
    )
