"""One writer per execution: the lease on local stores, first-writer-wins commits everywhere."""

from __future__ import annotations

import json
import os
import re
import textwrap
import time
from pathlib import Path

import pytest
from conftest import laminar

from laminar.store import lease as lease_module
from laminar.store.datastore import Datastore
from laminar.store.execution import Execution, Manifest
from laminar.store.lease import ExecutionLeasedError, Lease
from store.flows import start_running

SLOW = """
import time
from pathlib import Path
from laminar import Flow, Layer

class Slow(Flow): ...

@Slow.register
class Wait(Layer):
    def __call__(self) -> None:
        Path("started").write_text("yes")
        while not Path("go").exists():
            time.sleep(0.05)
        self.value = "first"
"""


def test_second_writer_of_a_live_execution_is_refused(tmp_path: Path) -> None:
    (tmp_path / "slow.py").write_text(textwrap.dedent(SLOW))
    first = start_running(tmp_path, "slow.py", "--execution", "r1")
    try:
        second = laminar("run", "slow.py", "--execution", "r1", cwd=tmp_path, check=False)
        assert second.returncode == 2 and "Traceback" not in second.stderr
        assert f"Execution r1 is being written by pid {first.pid} on" in second.stderr
        assert "Wait: ran" not in second.stderr
    finally:
        (tmp_path / "go").write_text("now")
        _, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert not (tmp_path / ".laminar" / "Slow" / "r1" / "lease.json").exists()  # released
    shown = laminar("show", "slow.py", "--execution", "r1", "Wait.value", cwd=tmp_path)
    assert shown.stdout == "'first'\n"


def test_stale_lease_is_taken_over_with_a_message(tmp_path: Path) -> None:
    (tmp_path / "slow.py").write_text(textwrap.dedent(SLOW))
    (tmp_path / "go").write_text("now")
    lease = tmp_path / ".laminar" / "Slow" / "r1" / "lease.json"
    lease.parent.mkdir(parents=True)
    record = {"owner": "pid 99999 on gone-host", "token": "x", "heartbeat": time.time() - 60}
    lease.write_text(json.dumps(record))
    run = laminar("run", "slow.py", "--execution", "r1", cwd=tmp_path,
                  env={"LAMINAR_LEASE_TIMEOUT": "5"})  # fmt: skip
    assert "taking over execution r1 from pid 99999 on gone-host" in run.stderr
    assert re.search(r"its lease has been silent for \d+s \(more than 5s\)", run.stderr)
    assert not (tmp_path / ".laminar" / "Slow" / "r1" / "lease.json").exists()


def test_lease_heartbeat_keeps_it_live_and_a_takeover_stops_the_old_holder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lease_module, "HEARTBEAT", 0.05)
    monkeypatch.setenv("LAMINAR_LEASE_TIMEOUT", "0.4")
    path = str(tmp_path / "lease.json")
    said: list[str] = []
    with Lease(path, "r1", said.append) as holder:
        time.sleep(0.6)  # longer than the timeout: only the heartbeat keeps it live
        with pytest.raises(ExecutionLeasedError, match="is being written by pid"):
            Lease(path, "r1", said.append).acquire()
        # Someone takes it over (as after a stall of the holder): the holder notices.
        record = {"owner": "another", "token": "theirs", "heartbeat": time.time()}
        Path(path).write_text(json.dumps(record))
        time.sleep(0.3)
        with pytest.raises(ExecutionLeasedError, match="taken over by another process"):
            holder.check()
    assert json.loads(Path(path).read_text())["token"] == "theirs"  # not released by us
    assert said == []


def _manifest(value: int, task: str = "main") -> Manifest:
    return Manifest("L", task, {"v": ("value", str(value).encode())})


def test_a_committed_manifest_is_never_replaced(tmp_path: Path) -> None:
    first = Execution(Datastore(str(tmp_path)), "F", "e")
    second = Execution(Datastore(str(tmp_path)), "F", "e")
    assert first.commit(_manifest(1)) is True
    assert second.commit(_manifest(2)) is False
    fresh = Execution(Datastore(str(tmp_path)), "F", "e")
    manifest = fresh.commits.read_manifest("L", "main")
    assert manifest is not None and manifest.attributes["v"] == ("value", b"1")
    tasks = tmp_path / "F" / "e" / "L" / "tasks"
    assert sorted(os.listdir(tasks)) == ["main.manifest"]  # no temporary file left behind


def test_a_group_leaves_out_tasks_another_writer_committed(tmp_path: Path) -> None:
    first = Execution(Datastore(str(tmp_path)), "F", "e")
    second = Execution(Datastore(str(tmp_path)), "F", "e")
    first.commit_group([_manifest(100 + i, str(i)) for i in range(0, 5)])
    second.commit_group([_manifest(200 + i, str(i)) for i in range(3, 9)])
    fresh = Execution(Datastore(str(tmp_path)), "F", "e")
    manifests = fresh.commits.read_manifests("L", list("012345678"))
    values = [m.attributes["v"][1] if m else None for m in manifests]
    assert values == [b"100", b"101", b"102", b"103", b"104", b"205", b"206", b"207", b"208"]
    assert sorted(os.listdir(tmp_path / "F" / "e" / "L" / "tasks")) == ["0-4.group", "5-8.group"]


def test_plans_are_first_writer_wins(tmp_path: Path) -> None:
    from laminar.store.commits import PlanRecord

    one = Execution(Datastore(str(tmp_path)), "F", "e")
    two = Execution(Datastore(str(tmp_path)), "F", "e")
    assert one.commits.write_plan("L", PlanRecord(count=3, legs=3)) == PlanRecord(count=3, legs=3)
    assert two.commits.write_plan("L", PlanRecord(count=9, legs=1)) == PlanRecord(count=3, legs=3)


def test_planning_after_another_writer_returns_the_committed_plan(tmp_path: Path) -> None:
    from laminar.model.loader import load_flow
    from laminar.runtime.task import Runtime
    from laminar.store.commits import PlanRecord
    from store.flows import pipeline

    ir = load_flow(str(pipeline(tmp_path))).ir()
    store = Datastore(str(tmp_path / "store"))
    runtime = Runtime(ir, Execution(store, "Pipe", "e"))
    runtime.run_leg("Start", None)
    # Another writer commits its plan for Work between this one's read and its write.
    other = Execution(store, "Pipe", "e")
    committed = PlanRecord(count=20, legs=4, axes=runtime.plan("Work", max_legs=None).axes)
    (tmp_path / "store" / "Pipe" / "e" / "Work" / "plan.json").unlink()
    other.commits.write_plan("Work", committed)
    late = Runtime(ir, Execution(store, "Pipe", "e"))
    late.execution.read_plan = lambda layer: None  # type: ignore[method-assign]
    assert late.plan("Work", max_legs=20) == committed


def test_first_writer_wins_without_hard_links(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    def no_links(source: str, target: str) -> None:
        raise OSError(errno.EPERM, "Operation not permitted", target)

    monkeypatch.setattr(os, "link", no_links)  # as on some network and FUSE mounts
    assert Execution(Datastore(str(tmp_path)), "F", "e").commit(_manifest(1)) is True
    assert Execution(Datastore(str(tmp_path)), "F", "e").commit(_manifest(2)) is False
    manifest = Execution(Datastore(str(tmp_path)), "F", "e").commits.read_manifest("L", "main")
    assert manifest is not None and manifest.attributes["v"] == ("value", b"1")
    assert sorted(os.listdir(tmp_path / "F" / "e" / "L" / "tasks")) == ["main.manifest"]
