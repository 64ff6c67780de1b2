"""Pods sized by ``@hooks.submission`` and ``@hooks.retry`` on Airflow's Kubernetes operator
(issue 25): the plan's one XCom carries each leg with its resources per try (``--format
sized``), the mapped task expands over it (``expand_kwargs``) and ``SizedPodOperator`` gives
each try's pod its own. The engine test builds the pods with the real Airflow and provider."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT, laminar, require_engine

HERE = Path(__file__).parent

FLOW = "tests/flows/sized.py"


def compiled(*options: str) -> tuple[str, list[str]]:
    done = laminar(
        "compile", FLOW, "--target", "airflow", "--datastore", "s3://bucket/runs", *options,
        cwd=ROOT,
    )  # fmt: skip
    return done.stdout, done.stderr.splitlines()


def test_the_kubernetes_dag_sizes_each_mapped_pod_from_its_plan() -> None:
    text, told = compiled("--operator", "kubernetes", "--image", "i:1")
    assert not [line for line in told if "@hooks." in line], told  # applied: no warning
    assert "'--layer=B', '--format', 'sized', '--output', '/airflow/xcom/return.json'" in text
    assert "B = SizedPodOperator.partial(" in text
    assert ").expand_kwargs(B_plan.output.map(sized_leg))" in text
    assert "A = KubernetesPodOperator(" in text  # a layer without hooks: the plain operator


def test_the_python_operator_says_it_keeps_the_workers_resources() -> None:
    text, told = compiled()
    assert "SizedPodOperator" not in text and "'sized'" not in text
    assert any(
        "Layer B: airflow does not give its tasks the resources its @hooks.submission" in line
        for line in told
    ), told


@pytest.mark.e2e
def test_real_airflow_builds_each_pod_with_its_tasks_resources_per_try(tmp_path: Path) -> None:
    """The real shim plans (hooks run), the real Airflow maps its XCom and builds each try's pod."""
    python = require_engine("LAMINAR_AIRFLOW_PYTHON", "Airflow")
    text, _ = compiled("--operator", "kubernetes", "--image", "i:1")
    (tmp_path / "dag.py").write_text(text, encoding="utf-8")
    store = ["--execution", "run-1", "--datastore", str(tmp_path / "store")]
    laminar("task", FLOW, "--layer=A", *store, cwd=ROOT)
    xcom = laminar("plan", FLOW, "--layer=B", "--format", "sized", *store, cwd=ROOT)
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path / "airflow")}
    probe = subprocess.run(
        [python, str(HERE / "pod_probe.py"), str(tmp_path / "dag.py"), "B", xcom.stdout, "3"],
        capture_output=True, text=True, check=True, timeout=300, env=env, cwd=ROOT,
    )  # fmt: skip
    built = json.loads(probe.stdout.splitlines()[-1])
    assert built["operator"] == "SizedPodOperator"
    memory = [[pod["limits"]["memory"] for pod in tries] for tries in built["pods"]]
    assert memory == [
        ["1000M", "2000M", "4000M"], ["2000M", "4000M", "8000M"], ["3000M", "6000M", "12000M"],
    ]  # fmt: skip
    assert all(pod["requests"] == pod["limits"] for tries in built["pods"] for pod in tries)
    assert built["pods"][0][0]["requests"]["cpu"] == "1"  # what the layer declared stays
