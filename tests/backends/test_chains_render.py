"""A chain of flows (``flow1().next(flow=Flow2(), linker=...)``) runs locally only: compiling
a file that chains flows writes the named flow alone, byte for byte as without the chain,
with one warning per chain naming the file's line, the flow, the target's own way to start
the next run and the alternatives; a chain in a hook or a layer is named as refused where a
deployed task runs it; ``--strict`` refuses them."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT, laminar

SOURCE = (ROOT / "tests" / "flows" / "chained.py").read_text()
SCRIPT = "if flow := Flow1():"  # the script's chain, at the end of the file


def line_of(text: str) -> int:
    return next(n for n, line in enumerate(SOURCE.splitlines(), 1) if text in line)


MECHANISM = {
    "airflow": "start it with a TriggerDagRunOperator as the last task of this DAG",
    "argo": "workflowTemplateRef: the next WorkflowTemplate",
    "github": "gh workflow run NEXT.yml",
}


def compile_in(folder: Path, source: str, target: str, *extra: str) -> tuple[str, list[str], int]:
    folder.mkdir()
    (folder / "flow.py").write_text(source)
    done = laminar(
        "compile", "flow.py:Flow1", "--target", target, "--image", "python:3.12",
        "--datastore", "s3://bucket/chains", "-o", "out", *extra, cwd=folder, check=False,
    )  # fmt: skip
    written = (folder / "out").read_text() if (folder / "out").exists() else ""
    warned = [line for line in done.stderr.splitlines() if line.startswith("laminar: warning:")]
    return written, warned, done.returncode


@pytest.mark.parametrize("target", sorted(MECHANISM))
def test_the_first_flow_is_compiled_alone_and_each_chain_is_named(
    tmp_path: Path, target: str
) -> None:
    chained, warned, status = compile_in(tmp_path / "chained", SOURCE, target)
    alone, fewer, _ = compile_in(tmp_path / "alone", SOURCE[: SOURCE.index(SCRIPT)], target)
    assert status == 0 and chained == alone
    assert warned[:2] == fewer and len(warned) == 3
    hook, task, script = warned
    assert hook.startswith(
        f"laminar: warning: flow.py line {line_of('execution.next(')} chains flows with "
        ".next(flow=Flow2(datastore=execution.datastore), ...) in chain(), which a deployed "
        f"task refuses: the {target} output fails where it runs chain(). Compose the flows "
        "into one flow (class Both(Flow1, NextFlow)"
    )
    assert task.startswith(
        f"laminar: warning: flow.py line {line_of('.next(flow=Flow2(), linker=link)')} chains "
        "flows with .next(flow=Flow2(), ...) in __call__(), which a deployed task refuses"
    )
    assert script.startswith(
        f"laminar: warning: flow.py line {line_of('flow().next(')} chains flows with "
        f".next(flow=Flow2(), ...), which is not compiled: the {target} output runs Flow1 "
        "alone. Compose the flows into one flow (class Both(Flow1, NextFlow)"
    )
    for line in warned:
        assert MECHANISM[target] in line
        assert line.endswith("or run the chain locally (python flow.py).")


def test_strict_refuses_a_file_that_chains_flows(tmp_path: Path) -> None:
    written, warned, status = compile_in(tmp_path / "s", SOURCE, "airflow", "--strict")
    assert status != 0 and written == "" and len(warned) == 3
