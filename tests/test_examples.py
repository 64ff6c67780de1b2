"""Every example of the seed prints what the seed says, via laminar run and python flow.py."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, ROOT, laminar

SEED = ROOT.parent / "shared" / "seed" / "scaling_out.txt"

#: The seed's examples in order, and the file in examples/ that holds each.
SEED_EXAMPLES = ["sharded", "foreach", "foreach_unsharded", "grid", "join", "chained"]


def seed_outputs() -> list[list[str]]:
    """The ``>>>`` lines after each ``python main.py`` of the seed, quotes normalised.

    The seed writes strings as ``"a"`` and ``'First'``; Python's print shows them bare.
    """
    blocks: list[list[str]] = []
    current: list[str] | None = None
    for line in SEED.read_text().splitlines():
        if line.strip() == "python main.py":
            current = []
            blocks.append(current)
        elif line.startswith(">>> ") and current is not None:
            current.append(re.sub(r"""["']([^"']*)["']""", r"\1", line[4:]))
        else:
            current = None if line.strip() else current
    return blocks


@pytest.fixture(scope="module")
def expected() -> dict[str, list[str]]:
    if not SEED.exists():
        message = f"seed specification not found at {SEED}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)  # CI always has shared/ beside the clone
        pytest.skip(message)
    blocks = seed_outputs()
    assert len(blocks) == len(SEED_EXAMPLES)
    return dict(zip(SEED_EXAMPLES, blocks, strict=True))


@pytest.mark.parametrize("name", SEED_EXAMPLES)
def test_laminar_run_prints_the_seed_output(
    name: str, expected: dict[str, list[str]], tmp_path: Path
) -> None:
    result = laminar("run", str(EXAMPLES / f"{name}.py"), cwd=tmp_path)
    assert result.stdout.splitlines() == expected[name]
    assert "done in" in result.stderr
    assert (tmp_path / ".laminar").is_dir()


@pytest.mark.parametrize("name", SEED_EXAMPLES)
def test_python_flow_py_prints_the_seed_output(
    name: str, expected: dict[str, list[str]], tmp_path: Path
) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.splitlines() == expected[name]


def test_diamond_and_empty_examples(tmp_path: Path) -> None:
    assert laminar("run", str(EXAMPLES / "diamond.py"), cwd=tmp_path).stdout == "11 20 31\n"
    empty = laminar("run", str(EXAMPLES / "empty.py"), cwd=tmp_path)
    assert empty.stdout == "tasks: 0 []\n"
    assert "Process: 0 tasks" in empty.stderr


def test_branching_example(tmp_path: Path) -> None:
    run = laminar("run", str(EXAMPLES / "branching.py"), cwd=tmp_path)
    assert run.stdout == "retrained (accuracy 0.93), not published\n"
    assert "Publish: skipped (entry hook passed returned False)" in run.stderr
    assert "Announce: skipped (Publish was skipped)" in run.stderr


def test_loading_an_example_does_not_run_it(tmp_path: Path) -> None:
    graph = laminar("graph", str(EXAMPLES / "grid.py"), cwd=tmp_path)
    assert "Process (foreach Shard.foo, Shard.bar)" in graph.stdout
    assert not (tmp_path / ".laminar").exists()


def test_parallel_workers_run_every_task(tmp_path: Path) -> None:
    result = laminar("run", str(EXAMPLES / "grid.py"), "--workers", "2", cwd=tmp_path)
    assert sorted(result.stdout.splitlines()) == [
        "0 1 a",
        "1 2 a",
        "2 3 a",
        "3 1 b",
        "4 2 b",
        "5 3 b",
    ]
