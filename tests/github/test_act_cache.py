"""Caching across executions under act (issue 23): three workflow runs (three run ids, so three
executions) in one datastore (``--datastore``: a run's artifacts are its own, so the cache needs
a datastore every run reaches). The second run is served from the cache with identical
results; the third, dispatched with ``laminar_no_cache=true``, runs every task."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from flows.cached import EXPECTED, SERVED

from github.harness import act, compile_workflow, python_version, run_act, snapshot

pytestmark = pytest.mark.e2e

SHARED_FLOWS = Path(__file__).resolve().parent.parent / "flows"
#: The run ids (execution ids) of the three runs, and their dispatch inputs.
RUNS = {"101": None, "102": None, "103": {"laminar_no_cache": "true"}}


def test_a_second_run_is_served_from_the_cache_and_the_switch_ignores_it(
    tmp_path: Path,
) -> None:
    act()  # skip (or fail in CI) before compiling anything
    project, store = tmp_path / "project", tmp_path / "store"
    project.mkdir()
    shutil.copy(SHARED_FLOWS / "cached.py", project / "cached.py")
    compile_workflow(
        project, "cached.py", "cached.yml", "--python-version", python_version(),
        "--install", "command -v laminar", "--datastore", str(store), "--max-legs", "1",
    )  # fmt: skip
    for run_id, inputs in RUNS.items():
        run = run_act(project, tmp_path / f"run-{run_id}", inputs=inputs, run_id=run_id)
        assert run.returncode == 0, run.tail()
        assert snapshot(project / "cached.py", run_id, store) == EXPECTED
    second, third = (show(project, store, run_id) for run_id in ("102", "103"))
    assert all(line.format(first="101") in second for line in SERVED), second
    assert "cached from" not in third, third


def show(project: Path, store: Path, execution: str) -> str:
    command = [sys.executable, "-m", "laminar", "show", "cached.py", "--execution", execution]
    command += ["--datastore", str(store)]
    return subprocess.run(command, cwd=project, check=True, capture_output=True, text=True).stdout
