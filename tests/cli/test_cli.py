"""The command line as a user meets it: help, graph, show, and the Python results API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import EXAMPLES, laminar


def test_help_shows_examples(tmp_path: Path) -> None:
    top = laminar("--help", cwd=tmp_path).stdout
    assert "laminar run examples/grid.py" in top
    for command in ("run", "compile", "graph", "show", "plan", "task"):
        assert command in top
    run = laminar("run", "--help", cwd=tmp_path).stdout
    assert "--workers" in run and "resumes" in run
    compile_help = laminar("compile", "--target", "argo", "--help", cwd=tmp_path).stdout
    assert "argo options" in compile_help and "--kind" in compile_help
    for command in ("run", "compile", "graph", "show", "plan", "task"):
        text = laminar(command, "--help", cwd=tmp_path).stdout
        assert f"laminar {command} " in text.split("examples:\n", 1)[1], command
    assert "(if hook())" in laminar("graph", "--help", cwd=tmp_path).stdout
    import subprocess
    import sys

    script = subprocess.run(
        [sys.executable, str(EXAMPLES / "grid.py"), "--help"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    grid = EXAMPLES / "grid.py"  # the script as typed, so its examples run from here
    assert f"examples:\n  python {grid}\n" in script and f"laminar show {grid}" in script


def test_graph_formats(tmp_path: Path) -> None:
    flow = str(EXAMPLES / "chained.py")
    data = json.loads(laminar("graph", flow, "--format", "json", cwd=tmp_path).stdout)
    assert data["flow"] == "ChainedFlow"
    second = next(layer for layer in data["layers"] if layer["name"] == "Second")
    assert second["dependencies"] == ["First"]
    assert second["foreach"] == [{"layer": "First", "attribute": "foo", "index": None}]
    dot = laminar("graph", flow, "--format", "dot", cwd=tmp_path).stdout
    assert 'n0 [label="Shard", shape=box];' in dot and "n0 -> n1;" in dot
    mermaid = laminar("graph", flow, "--format", "mermaid", cwd=tmp_path).stdout
    assert 'n1[["First (foreach Shard.foo)"]]' in mermaid and "n1 --> n2" in mermaid


def test_graph_for_a_target_shows_its_jobs_and_why_a_plan_stays_apart(tmp_path: Path) -> None:
    flow = str(EXAMPLES / "branching.py")
    jobs = laminar("graph", flow, "--target", "github", cwd=tmp_path).stdout
    assert jobs.startswith("Retraining on github: 5 jobs\n")
    # Retrain is planned in Measure's job (no job of its own); Report's hook reads no layer,
    # so Measure decides it too, into lines of its own (--plan-key). Publish's hook reads
    # Retrain: Retrain's job decides it, or Measure's when it skipped Retrain.
    assert "(plan" not in jobs and "--then-plan=Retrain" in jobs
    assert "--plan-key=Report=Report" in jobs and "--plan-if-ended=Publish" in jobs
    assert "    legs: as many as Retrain prints (or Measure, when Retrain is skipped)\n" in jobs
    # Argo cannot read a skipped task's outputs: Publish keeps a planning pod, and says why.
    argo = laminar("graph", flow, "--target", "argo", cwd=tmp_path).stdout
    publish = argo[argo.index("  publish-plan ") :]
    assert publish.splitlines()[2] == (
        "    planned apart: its upstream Retrain is planned itself (legs, or entry hooks)"
    )
    assert jobs == laminar("run", flow, "--target", "github", "--dry-run", cwd=tmp_path).stdout


def test_show_lists_and_reads_results(tmp_path: Path) -> None:
    flow = str(EXAMPLES / "join.py")
    assert "No executions of JoinFlow" in laminar("show", flow, cwd=tmp_path).stdout
    laminar("run", flow, "--execution", "first", cwd=tmp_path)
    laminar("run", flow, "--execution", "second", cwd=tmp_path)
    listed = laminar("show", flow, cwd=tmp_path).stdout.splitlines()
    assert [line.split("  ")[:2] for line in listed] == [
        ["first", "succeeded"],
        ["second", "succeeded"],
    ]
    summary = laminar("show", flow, "--execution", "first", cwd=tmp_path).stdout
    assert "Process [2 tasks]" in summary
    assert "foo = <2 items: [1, 2]>" in summary
    assert laminar("show", flow, "Process.foo", cwd=tmp_path).stdout == "[0] 1\n[1] 2\n"
    missing = laminar("show", flow, "Process.nope", cwd=tmp_path, check=False)
    assert missing.returncode == 2 and "never set self.nope" in missing.stderr


def test_results_api_and_datastore_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "elsewhere"
    laminar(
        "run",
        str(EXAMPLES / "grid.py"),
        "--execution",
        "g1",
        cwd=tmp_path,
        env={"LAMINAR_DATASTORE": str(store)},
    )
    assert (store / "GridFlow" / "g1" / "execution.json").is_file()
    from laminar.model.loader import load_flow

    grid = load_flow(str(EXAMPLES / "grid.py"))
    results = grid.results("g1", datastore=str(store))
    assert results["Process"].tasks() == 6
    assert list(results["Shard"].bar) == ["a", "b"]
    assert results.snapshot() == {"Shard": {"bar": ["a", "b"], "foo": [1, 2, 3]}, "Process": {}}
    monkeypatch.setenv("LAMINAR_DATASTORE", str(store))
    assert grid.results().id == "g1"


def test_the_command_a_run_suggests_shows_its_results(tmp_path: Path) -> None:
    """``inspect with: laminar show ...`` names the datastore the run used, so the command
    works as printed; a memory datastore, gone with the process, gets no command."""
    import shlex

    store = tmp_path / "my store"
    run = laminar("run", str(EXAMPLES / "join.py"), "--datastore", str(store), cwd=tmp_path)
    (line,) = [text for text in run.stderr.splitlines() if "inspect with: " in text]
    command = shlex.split(line.split("inspect with: ", 1)[1])
    assert command[:2] == ["laminar", "show"] and command[-2:] == ["--datastore", str(store)]
    shown = laminar(*command[1:], "Process.foo", cwd=tmp_path)
    assert shown.stdout.startswith("[0] ")
    memory = laminar("run", str(EXAMPLES / "join.py"), "--datastore", "memory://x", cwd=tmp_path)
    assert "inspect with" not in memory.stderr
    assert "the results are in this process's memory datastore" in memory.stderr
