"""Under act: a failure stops its dependants but not the rest, and a re-run resumes.

Attempt 1 fails in one ForEach task. Attempt 2 is the same workflow run (same run id, so the
same execution) with ``github.run_attempt`` 2: every job downloads the earlier attempt's
artifacts, and the shim skips every task committed then, including the ones of the failed leg
that succeeded before the failure.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from github.harness import FLOWS, ActRun, act, compile_workflow, python_version, run_act, snapshot

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ActRun, ActRun, list[str]]:
    act()  # skip (or fail in CI) before compiling anything
    project = tmp_path_factory.mktemp("resume") / "project"
    project.mkdir()
    shutil.copy(FLOWS / "resume.py", project / "resume.py")
    compile_workflow(
        project,
        "resume.py",
        "resume.yml",
        "--python-version",
        python_version(),
        "--install",
        "command -v laminar",
        "--max-legs",
        "2",
    )
    work = tmp_path_factory.mktemp("resume-run")
    first = run_act(project, work, attempt=1)
    after_first = first.artifact_names("ResumeFlow")
    second = run_act(project, work, attempt=2)
    return project, first, second, after_first


def test_a_failed_task_stops_its_dependants_only(
    runs: tuple[Path, ActRun, ActRun, list[str]],
) -> None:
    _, first, _, names = runs
    assert first.returncode != 0
    assert "task 3 fails in attempt 1" in first.text()
    # Report needs Work, whose leg 1 failed: it never ran, nor did Final after it (a job
    # skipped because of a failure stops its dependants, explicit `if:` or not).
    assert not [n for n in names if n.startswith(("laminar.Report.", "laminar.Final."))], names
    # The branch through the empty fan-out is independent of the failure and completed.
    assert "laminar.AfterEmpty.1" in names
    # The failed leg still uploaded the task it had committed before failing.
    assert "laminar.Work.1.1" in names


def test_a_rerun_resumes_from_committed_tasks(
    runs: tuple[Path, ActRun, ActRun, list[str]], tmp_path: Path
) -> None:
    project, _, second, _ = runs
    assert second.returncode == 0, second.tail()
    store = second.datastore("ResumeFlow", tmp_path / "store")
    got = snapshot(project / "resume.py", "1", store)
    # Tasks 0-2 were committed in attempt 1 and reused; only task 3 ran again.
    expected = [(0, "1"), (10, "1"), (20, "1"), (30, "2")]
    assert got["Work"]["result"] == expected
    assert got["Report"]["results"] == expected
    assert got["AfterEmpty"] == {"count": 0}
    assert got["Final"] == {"count": 4}
    assert {"laminar.Report.2", "laminar.Final.2"} <= set(second.artifact_names("ResumeFlow"))
