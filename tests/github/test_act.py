"""Generated workflows run end to end on a real runner (act, host mode) and compute what
``laminar run`` computes.

act is slow per job, so one act invocation runs every workflow of one project (each workflow
is its own run, with its own artifacts); the tests below then check each flow's results.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES
from flows.inputs import GIVEN

from github.harness import (
    FLOWS,
    ActRun,
    act,
    compile_workflow,
    lint,
    local_run,
    python_version,
    run_act,
    snapshot,
)
from laminar.model.loader import load_flow

pytestmark = pytest.mark.e2e

EXAMPLE_NAMES = sorted(p.stem for p in EXAMPLES.glob("*.py"))
#: act (unlike GitHub) interpolates ``${{ }}`` found inside an input's value when it sets the
#: job's env, so the value given to act leaves that part out; render tests check the workflow
#: never builds an expression from an input.
ACT_GIVEN = {**GIVEN, "note": GIVEN["note"].replace("${{ github.token }}", "<token>")}
#: Flows every target's tests run (tests/flows/).
SHARED_FLOWS = Path(__file__).resolve().parent.parent / "flows"
WIDE_LEGS = 20
#: A file name that is hostile in YAML, in a shell, and to GitHub's ``${{ }}``.
ODD_FILE = "odd ${{ github.token }} \"q\" 'q' #x: y\nz.py"
ODD_INSTALL = "printf '%s\\n' 'install saw: ${{ github.token }} \"q\" $HOME'\ncommand -v laminar"
ODD_NAME = "Escaping \"flow\" 'name' #1: }}"


#: A repository secret's value: in the placed flow's Pull job only, stored nowhere.
SECRET_VALUE = "repository-secret-value/with+slash="


def _common() -> tuple[str, ...]:
    return ("--python-version", python_version(), "--install", "command -v laminar")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    act()  # skip (or fail in CI) before compiling anything
    root = tmp_path_factory.mktemp("act") / "project"
    (root / "examples").mkdir(parents=True)
    for name in EXAMPLE_NAMES:
        shutil.copy(EXAMPLES / f"{name}.py", root / "examples" / f"{name}.py")
        # Two examples share a flow class name: distinct workflow names keep their runs apart.
        compile_workflow(
            root, f"examples/{name}.py", f"{name}.yml", *_common(), "--name", f"example {name}"
        )
    shutil.copy(FLOWS / "wide.py", root / "wide.py")
    compile_workflow(root, "wide.py", "wide.yml", *_common(), "--max-legs", str(WIDE_LEGS))
    shutil.copy(FLOWS / "skips.py", root / "skips.py")
    compile_workflow(root, "skips.py", "skips.yml", *_common())
    for name in ("inputs", "hostile", "guarded", "placed"):
        shutil.copy(SHARED_FLOWS / f"{name}.py", root / f"{name}.py")
        compile_workflow(root, f"{name}.py", f"{name}.yml", *_common(), "--name", name)
    shutil.copy(SHARED_FLOWS / "exits.py", root / "exits.py")
    for flow in ("Alerting", "AlertingFails"):
        compile_workflow(root, f"exits.py:{flow}", f"{flow}.yml", *_common(), "--name", flow)
    shutil.copy(FLOWS / "escaping.py", root / ODD_FILE)
    compile_workflow(
        root,
        ODD_FILE,
        "escaping.yml",
        "--python-version",
        python_version(),
        "--install",
        ODD_INSTALL,
        "--name",
        ODD_NAME,
    )
    return root


@pytest.fixture(scope="module")
def act_run(project: Path, tmp_path_factory: pytest.TempPathFactory) -> ActRun:
    return run_act(
        project,
        tmp_path_factory.mktemp("act-run"),
        inputs=ACT_GIVEN,
        secrets={"WAREHOUSE_TOKEN": SECRET_VALUE},
    )


def _results(run: ActRun, project: Path, flow_file: Path, name: str, tmp: Path) -> Any:
    store = run.datastore(name, tmp / "act-store")
    return snapshot(flow_file, "1", store)


def test_the_workflows_run_here_lint_clean(project: Path) -> None:
    assert lint(*sorted((project / ".github" / "workflows").glob("*.yml"))) == []


def test_act_ran_every_workflow_successfully(act_run: ActRun) -> None:
    """Every workflow succeeded but AlertingFails, whose Breaks fails on purpose (its exit
    hook is told so: test_exit_hooks_run_in_a_last_job_whatever_happened)."""
    lines = act_run.log.read_text(errors="replace").splitlines()
    failed = [line for line in lines if "Job failed" in line or "Failure - " in line]
    assert failed and all(line.startswith("[AlertingFails/Breaks") for line in failed), failed
    assert [line for line in lines if line.startswith("Error: Job")] == [
        "Error: Job 'Breaks' failed"
    ], act_run.tail()


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_example_results_equal_laminar_run(
    name: str, project: Path, act_run: ActRun, tmp_path: Path
) -> None:
    flow_file = project / "examples" / f"{name}.py"
    expected = local_run(flow_file, tmp_path / "local")
    got = _results(act_run, project, flow_file, f"example {name}", tmp_path)
    assert got == expected, act_run.tail()
    # Every layer committed something or legitimately nothing: each one is in the results.
    assert set(got) == set(expected)


def test_empty_fan_out_is_skipped_and_the_layer_after_it_runs(
    project: Path, act_run: ActRun, tmp_path: Path
) -> None:
    flow_file = project / "examples" / "empty.py"
    got = _results(act_run, project, flow_file, "example empty", tmp_path)
    assert got["Report"] == {"count": 0}
    names = act_run.artifact_names("example empty")
    assert not [n for n in names if n.startswith("laminar.Process.")], names
    assert "laminar.Report.1" in names


def test_three_layers_after_an_empty_fan_out_all_run(
    project: Path, act_run: ActRun, tmp_path: Path
) -> None:
    """GitHub's (and act's) transitive skip would drop every job two or more layers after the
    skipped fan-out; each job's explicit ``if:`` keeps them (actions/runner#2205)."""
    flow_file = project / "skips.py"
    got = _results(act_run, project, flow_file, "SkipsFlow", tmp_path)
    assert got == local_run(flow_file, tmp_path / "local")
    assert got["Third"] == {"total": 1 + 4 + 9, "count": 0}
    names = act_run.artifact_names("SkipsFlow")
    assert not [n for n in names if n.startswith("laminar.Empty.")], names
    assert {"laminar.First.1", "laminar.Second.0.1", "laminar.Third.1"} <= set(names), names


def test_300_tasks_run_in_batched_legs(project: Path, act_run: ActRun, tmp_path: Path) -> None:
    got = _results(act_run, project, project / "wide.py", "WideFlow", tmp_path)
    assert got["Total"] == {"total": sum(n * n for n in range(300)), "count": 300}
    assert got["Square"]["square"] == [n * n for n in range(300)]
    legs = {n for n in act_run.artifact_names("WideFlow") if n.startswith("laminar.Square.")}
    assert legs == {f"laminar.Square.{k}.1" for k in range(WIDE_LEGS)}


def test_hostile_strings_run_as_data(project: Path, act_run: ActRun, tmp_path: Path) -> None:
    flow = load_flow(str(FLOWS / "escaping.py"))
    value = sys.modules[flow.__module__].VALUE
    got = _results(act_run, project, project / ODD_FILE, ODD_NAME, tmp_path)
    assert got["Source"]["value"] == value
    assert got["Echo"]["word"] == ["${{ a }}!", "'b'!", '"c"!']
    # Flaky failed its first attempt inside the job and passed on the retry.
    assert got["Flaky"]["words"] == got["Echo"]["word"]
    log = act_run.log.read_text(errors="replace")
    assert 'install saw: ${{ github.token }} "q" $HOME' in log
    assert "first attempt fails on purpose" in log


def test_dispatch_inputs_reach_every_job_unchanged(
    project: Path, act_run: ActRun, tmp_path: Path
) -> None:
    """``workflow_dispatch`` inputs (quotes, ``${{ }}``, ``$(...)``, line breaks) reach every
    job through ``env:`` exactly, never through a script; results equal a local run."""
    flow_file = project / "inputs.py"
    got = _results(act_run, project, flow_file, "inputs", tmp_path)
    local = tmp_path / "local"
    options = [f"-p{name}={value}" for name, value in ACT_GIVEN.items()]
    subprocess.run(
        [sys.executable, "-m", "laminar", "run", str(flow_file), "--execution", "local",
         "--datastore", str(local / "store"), "-q", *options],
        check=True, cwd=project, capture_output=True,
    )  # fmt: skip
    assert got == snapshot(flow_file, "local", local / "store")
    assert got["Source"]["seen"]["note"] == ACT_GIVEN["note"]
    assert got["Report"]["outs"] == ["full:0.0", "full:0.25", "full:0.5"]


def test_hostile_names_run_as_names(project: Path, act_run: ActRun, tmp_path: Path) -> None:
    """Layers named like keywords, builtins and options, a flow named with code and line
    breaks: every job runs, and the results equal a local run but for the pod-only env."""
    flow_file = project / "hostile.py"
    got = _results(act_run, project, flow_file, "hostile", tmp_path)
    expected = local_run(flow_file, tmp_path / "local")
    from flows.hostile import VALUE

    assert got["--help"].pop("env") == VALUE
    assert expected["--help"].pop("env") == ""
    assert got == expected


def test_timeouts_and_a_capped_fan_out_run_as_locally(
    project: Path, act_run: ActRun, tmp_path: Path
) -> None:
    """timeout-minutes on the steps and jobs, max-parallel on the capped fan-out: the
    records equal a local run."""
    flow = project / "guarded.py"
    assert _results(act_run, project, flow, "guarded", tmp_path) == local_run(flow, tmp_path)


def test_a_layers_secret_reaches_its_job_only_and_is_stored_nowhere(
    project: Path, act_run: ActRun, tmp_path: Path
) -> None:
    results = _results(act_run, project, project / "placed.py", "placed", tmp_path)
    assert results["Train"]["sees_token"] is False
    assert len(results["Pull"]["token_digest"]) == 12
    assert SECRET_VALUE not in (project / ".github" / "workflows" / "placed.yml").read_text()
    assert SECRET_VALUE not in act_run.text()
    for path in act_run.artifacts.rglob("*"):
        if path.is_file():
            assert SECRET_VALUE.encode() not in path.read_bytes(), path


def test_exit_hooks_run_in_a_last_job_whatever_happened(act_run: ActRun) -> None:
    """The exit job (if: always()) runs laminar exit once per workflow, told how it ended."""
    log = act_run.text()
    ok = [line for line in log.splitlines() if 'exit hook: {"succeeded": true' in line]
    bad = [line for line in log.splitlines() if 'exit hook: {"succeeded": false' in line]
    assert len(ok) == 1 and len(bad) == 1
    assert '["Breaks", 1, "ValueError: item 2 is broken", 1]' in bad[0]
