"""``laminar run --keep-going``: a failure stops only what depends on it; the run still fails,
listing the failures, and resuming runs only what is left. The default stays fail-fast."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import laminar

FRAGILE = """
import os
from laminar import Flow, ForEach, Layer, Parameter


class Fragile(Flow): ...


@Fragile.register
class Shard(Layer):
    def __call__(self) -> None:
        self.shard(n=[0, 1, 2, 3])


@Fragile.register(foreach=ForEach(parameters=[Parameter(layer=Shard, attribute="n")]))
class Process(Layer):
    def __call__(self, shard: Shard) -> None:
        if shard.n % 2 and not os.environ.get("FIXED"):
            raise ValueError(f"odd {shard.n}")
        print("processed", shard.n)
        self.n = shard.n


@Fragile.register
class Join(Layer):
    def __call__(self, process: Process) -> None:
        print("joined", list(process.n))


@Fragile.register
class Other(Layer):
    def __call__(self) -> None:
        print("other ran")
"""


@pytest.mark.parametrize("workers", ["1", "2"])
def test_keep_going_runs_what_does_not_depend_on_a_failure(
    workers: str, write_flow: Callable[[str], Path], tmp_path: Path
) -> None:
    flow = write_flow(FRAGILE)
    run = laminar(
        "run", str(flow), "--execution", "e", "--keep-going", "--workers", workers,
        cwd=tmp_path, check=False,
    )  # fmt: skip
    assert run.returncode == 1
    assert sorted(run.stdout.splitlines()) == ["other ran", "processed 0", "processed 2"]
    assert "ValueError: odd 1" in run.stderr and "ValueError: odd 3" in run.stderr
    assert (
        "error: 2 task(s) failed: Process[1] failed: ValueError: odd 1; Process[3] failed: "
        "ValueError: odd 3; not run, as they depend on a failed layer: Join" in run.stderr
    )
    assert f"resume with: laminar run {flow} --execution e" in run.stderr

    resumed = laminar("run", str(flow), "--execution", "e", cwd=tmp_path, env={"FIXED": "1"})
    assert resumed.stdout.splitlines() == ["processed 1", "processed 3", "joined [0, 1, 2, 3]"]


def test_keep_going_after_a_failing_layer_without_foreach(
    write_flow: Callable[[str], Path], tmp_path: Path
) -> None:
    flow = write_flow(FRAGILE.replace("if shard.n % 2", "if True").replace(
        "class Shard(Layer):\n    def __call__(self) -> None:",
        "class Shard(Layer):\n    def __call__(self) -> None:\n        raise OSError('no disk')",
    ))  # fmt: skip
    run = laminar("run", str(flow), "--keep-going", cwd=tmp_path, check=False)
    assert run.returncode == 1
    assert run.stdout == "other ran\n"
    assert "[2/4] Process: not run (Shard failed)" in run.stderr
    assert "[3/4] Join: not run (Shard failed)" in run.stderr
    assert "1 task(s) failed: Shard failed: OSError: no disk; not run, as they depend on a " \
        "failed layer: Process, Join" in run.stderr  # fmt: skip


def test_the_default_is_fail_fast(write_flow: Callable[[str], Path], tmp_path: Path) -> None:
    run = laminar("run", str(write_flow(FRAGILE)), cwd=tmp_path, check=False)
    assert run.returncode == 1
    assert run.stdout == "processed 0\n"  # task 1 failed: tasks 2, 3 and Other never ran
    assert "error: Process[1] failed: ValueError: odd 1" in run.stderr
