"""The runtime shim as orchestrators call it: plan, legs, retries, resume, atomic commits."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from conftest import laminar

FLAKY_FLOW = """
import os
from pathlib import Path
from laminar import Flow, Layer
from laminar.configurations.layers import ForEach, Parameter, Retry

LOG = Path(os.environ["TEST_LOG"])


class Flaky(Flow): ...


@Flaky.register
class Shard(Layer):
    def __call__(self) -> None:
        with LOG.open("a") as log:
            log.write("Shard\\n")
        self.shard(n=range(7))


@Flaky.register(
    foreach=ForEach(parameters=[Parameter(layer=Shard, attribute="n")]),
    retry=Retry(attempts=2, delay=0),
)
class Process(Layer):
    def __call__(self, shard: Shard) -> None:
        with LOG.open("a") as log:
            log.write(f"Process {self.index}\\n")
        if shard.n == 2 and not Path(os.environ["TEST_OK"]).exists():
            raise ValueError(f"element {shard.n} is not ready")
        self.double = shard.n * 2


@Flaky.register
class Total(Layer):
    def __call__(self, process: Process) -> None:
        self.total = sum(process.double)
        print(self.total)
"""


def _env(tmp_path: Path) -> dict[str, str]:
    return {"TEST_LOG": str(tmp_path / "log"), "TEST_OK": str(tmp_path / "ok")}


def _log(tmp_path: Path) -> list[str]:
    lines = (tmp_path / "log").read_text().splitlines()
    (tmp_path / "log").unlink()
    return lines


def test_failed_run_reports_and_resumes(write_flow: Callable[[str], Path], tmp_path: Path) -> None:
    flow = write_flow(FLAKY_FLOW)
    env = _env(tmp_path)
    failed = laminar("run", str(flow), "--execution", "r1", cwd=tmp_path, env=env, check=False)
    assert failed.returncode == 1
    assert "Process[2] failed: ValueError: element 2 is not ready" in failed.stderr
    line = (
        flow.read_text()
        .splitlines()
        .index('            raise ValueError(f"element {shard.n} is not ready")')
    )
    assert f'File "{flow}", line {line + 1}, in __call__' in failed.stderr  # the user's raise
    assert "(attempt 1 of 2); retrying" in failed.stderr
    assert "resume with: laminar run" in failed.stderr and "--execution r1" in failed.stderr
    assert _log(tmp_path) == ["Shard", "Process 0", "Process 1", "Process 2", "Process 2"]

    (tmp_path / "ok").touch()
    resumed = laminar("run", str(flow), "--execution", "r1", cwd=tmp_path, env=env)
    assert resumed.stdout == "42\n"
    assert "resuming Flaky" in resumed.stderr
    # Committed work is not redone: Shard and tasks 0-1 are skipped.
    assert _log(tmp_path) == [f"Process {i}" for i in range(2, 7)]


def test_plan_formats_and_legs_cover_every_task_once(
    write_flow: Callable[[str], Path], tmp_path: Path
) -> None:
    flow = write_flow(FLAKY_FLOW)
    env = {**_env(tmp_path), "LAMINAR_EXECUTION": "manual__2026-11-25T12:00:00+00:00"}
    (tmp_path / "ok").touch()
    laminar("task", str(flow), "--layer", "Shard", cwd=tmp_path, env=env)
    github_output = tmp_path / "github_output"
    github_output.write_text("earlier=1\n")
    laminar(
        "plan",
        str(flow),
        "--layer",
        "Process",
        "--max-legs",
        "3",
        "--format",
        "github",
        "--output",
        str(github_output),
        cwd=tmp_path,
        env=env,
    )
    assert github_output.read_text() == 'earlier=1\nlegs=3\ncount=7\nmatrix={"leg":[0,1,2]}\n'
    # Planning again returns the committed plan, whatever the new options say.
    again = laminar(
        "plan", str(flow), "--layer", "Process", "--format", "list", cwd=tmp_path, env=env
    )
    assert json.loads(again.stdout) == [0, 1, 2]
    count = laminar(
        "plan", str(flow), "--layer", "Process", "--format", "count", cwd=tmp_path, env=env
    )
    assert count.stdout == "3\n"
    _log(tmp_path)
    for leg in (2, 0, 1):
        laminar(
            "task",
            str(flow),
            "--layer",
            "Process",
            cwd=tmp_path,
            env={**env, "LAMINAR_LEG": str(leg)},
        )
    ran = sorted(int(line.split()[1]) for line in _log(tmp_path))
    assert ran == list(range(7))
    total = laminar("task", str(flow), "--layer", "Total", cwd=tmp_path, env=env)
    assert total.stdout == "42\n"
    # A leg re-run after success is a no-op.
    laminar("task", str(flow), "--layer", "Process", "--leg", "1", cwd=tmp_path, env=env)
    assert not (tmp_path / "log").exists()


def test_task_retry_flag_and_exit_status(write_flow: Callable[[str], Path], tmp_path: Path) -> None:
    flow = write_flow(FLAKY_FLOW)
    env = {**_env(tmp_path), "LAMINAR_EXECUTION": "x"}
    laminar("task", str(flow), "--layer", "Shard", cwd=tmp_path, env=env)
    laminar("plan", str(flow), "--layer", "Process", cwd=tmp_path, env=env)
    no_retry = laminar(
        "task", str(flow), "--layer", "Process", "--leg", "2", cwd=tmp_path, env=env, check=False
    )
    assert no_retry.returncode == 1
    assert "Process[2] failed: ValueError" in no_retry.stderr
    assert "retrying" not in no_retry.stderr
    with_retry = laminar(
        "task",
        str(flow),
        "--layer",
        "Process",
        "--leg",
        "2",
        "--retry",
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert with_retry.returncode == 1 and "(attempt 1 of 2); retrying in 0s" in with_retry.stderr
    missing_leg = laminar(
        "task", str(flow), "--layer", "Process", cwd=tmp_path, env=env, check=False
    )
    assert "pass --leg K" in missing_leg.stderr
    no_execution = laminar(
        "task", str(flow), "--layer", "Shard", cwd=tmp_path, env=_env(tmp_path), check=False
    )
    assert "needs an execution id" in no_execution.stderr


KILLED_FLOW = """
import os
from laminar import Flow, Layer


class Killed(Flow): ...


@Killed.register
class Writer(Layer):
    def __call__(self) -> None:
        self.shard(part=range(1000))
        self.value = "written"
        if os.environ.get("TEST_KILL"):
            os._exit(9)  # the process dies after writing data, before committing


@Killed.register
class Reader(Layer):
    def __call__(self, writer: Writer) -> None:
        print(len(writer.part), writer.value)
"""


def test_task_killed_half_way_leaves_nothing_readable(
    write_flow: Callable[[str], Path], tmp_path: Path
) -> None:
    flow = write_flow(KILLED_FLOW)
    env = {"LAMINAR_EXECUTION": "k"}
    killed = laminar(
        "task",
        str(flow),
        "--layer",
        "Writer",
        cwd=tmp_path,
        env={**env, "TEST_KILL": "1"},
        check=False,
    )
    assert killed.returncode == 9
    assert list((tmp_path / ".laminar").rglob("*.chunk"))  # data was written...
    assert not list((tmp_path / ".laminar").rglob("*.manifest"))  # ...but never committed
    reader = laminar("task", str(flow), "--layer", "Reader", cwd=tmp_path, env=env, check=False)
    assert reader.returncode == 2
    assert "Writer has not committed results in execution k. Run Writer first." in reader.stderr
    laminar("task", str(flow), "--layer", "Writer", cwd=tmp_path, env=env)
    assert (
        laminar("task", str(flow), "--layer", "Reader", cwd=tmp_path, env=env).stdout
        == "1000 written\n"
    )
