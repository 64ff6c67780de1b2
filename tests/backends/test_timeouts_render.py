"""Timeouts and concurrency caps rendered natively: Argo ``activeDeadlineSeconds`` (per pod
and for the workflow) and a capping DAG template's ``parallelism``; Airflow
``execution_timeout`` (per try), ``dagrun_timeout`` and ``max_active_tis_per_dagrun``; GitHub
``timeout-minutes`` on the shim step (every attempt the shim makes on the runner) and, with a
warning, on each job for the flow's timeout, and ``max-parallel``. Each file passes its
target's schema."""

from __future__ import annotations

import ast
import warnings
from pathlib import Path
from typing import Any

import yaml
from argo.schema import assert_valid_workflow
from conftest import ROOT, laminar

from laminar.backends import generate
from laminar.errors import CompileWarning
from laminar.model.loader import load_flow

FLOW = ROOT / "tests" / "flows" / "guarded.py"


def compiled(target: str, **options: Any) -> str:
    ir = load_flow(str(FLOW)).ir()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        text = generate(target, ir, flow_ref="guarded.py", **options)
    compiled.warnings = [str(w.message) for w in caught if w.category is CompileWarning]  # type: ignore[attr-defined]
    return text


def test_argo_limits_each_pod_and_the_workflow() -> None:
    doc = yaml.safe_load(compiled("argo", image="python:3.11", datastore="s3://b/p"))
    assert doc["spec"]["activeDeadlineSeconds"] == 3600
    limits = {t["name"]: t.get("activeDeadlineSeconds") for t in doc["spec"]["templates"]}
    # Argo retries pods itself: each attempt is a pod with the whole limit.
    assert limits["source"] == 90 and limits["fetch"] == 600 and limits["total"] is None
    assert compiled.warnings == []  # type: ignore[attr-defined]
    assert_valid_workflow(doc)


def test_airflow_limits_each_try_and_the_dag_run() -> None:
    text = compiled("airflow")
    tree = ast.parse(text)
    calls = {
        ast.literal_eval(kw.value): call
        for call in ast.walk(tree)
        if isinstance(call, ast.Call)
        for kw in call.keywords
        if kw.arg == "task_id"
    }
    timeouts = {
        task: next(
            (ast.unparse(k.value) for k in call.keywords if k.arg == "execution_timeout"), None
        )
        for task, call in calls.items()
    }
    assert timeouts["Source"] == "datetime.timedelta(seconds=90.0)"
    assert timeouts["Fetch"] == "datetime.timedelta(seconds=600.0)"
    assert "Fetch-plan" not in timeouts  # Source's task plans Fetch (issue 24)
    assert timeouts["Total"] is None
    assert "dagrun_timeout=datetime.timedelta(seconds=3600.0)," in text


def test_github_limits_the_shims_attempts_and_warns_that_runs_have_no_limit() -> None:
    doc = yaml.safe_load(compiled("github"))
    jobs = doc["jobs"]
    step = {
        name: next(s for s in job["steps"] if s.get("id") == "shim") for name, job in jobs.items()
    }
    assert step["Source"]["timeout-minutes"] == 2  # 90 s, rounded up
    # The shim retries on GitHub: 3 attempts of 10 minutes and waits of 5 s and 10 s.
    assert step["Fetch"]["timeout-minutes"] == 31
    assert "timeout-minutes" not in step["Total"]
    assert {job["timeout-minutes"] for job in jobs.values()} == {60}
    (warning,) = compiled.warnings  # type: ignore[attr-defined]
    assert "GitHub Actions has no limit on a whole run" in warning
    assert "register(timeout=...)" in warning


def test_compile_prints_the_warning_and_strict_refuses_it(tmp_path: Path) -> None:
    done = laminar("compile", str(FLOW), "--target", "github", "-o", "g.yml", cwd=tmp_path)
    assert "laminar: warning: Flow Guarded: GitHub Actions has no limit" in done.stderr
    strict = laminar(
        "compile", str(FLOW), "--target", "github", "--strict", "-o", "s.yml",
        cwd=tmp_path, check=False,
    )  # fmt: skip
    assert strict.returncode != 0
    assert "--strict: 1 warning(s) above" in strict.stderr
    assert not (tmp_path / "s.yml").exists()


def test_graph_shows_the_limits(tmp_path: Path) -> None:
    text = laminar("graph", str(FLOW), cwd=tmp_path).stdout
    assert text.splitlines()[0] == "Guarded (timeout 3600s)"
    assert "Fetch (foreach Source.items; timeout 600s; at most 2 at once)" in text


def test_argo_caps_a_fan_out_in_a_dag_template_of_its_own() -> None:
    doc = yaml.safe_load(compiled("argo", image="python:3.11", datastore="s3://b/p"))
    templates = {t["name"]: t for t in doc["spec"]["templates"]}
    main = {t["name"]: t for t in templates["main"]["dag"]["tasks"]}
    assert main["fetch"]["template"] == "fetch-capped"
    assert main["fetch"]["arguments"]["parameters"] == [
        # Planned in Source's pod (fused): its output names the fan-out it feeds.
        {"name": "legs", "value": "{{tasks.source.outputs.parameters.legs-fetch}}"}
    ]
    capped = templates["fetch-capped"]
    assert capped["parallelism"] == 2
    (inner,) = capped["dag"]["tasks"]
    assert inner["template"] == "fetch"
    assert inner["withSequence"] == {"count": "{{inputs.parameters.legs}}"}
    assert_valid_workflow(doc)


def test_airflow_and_github_cap_the_mapped_tasks() -> None:
    assert "max_active_tis_per_dagrun=2," in compiled("airflow")
    jobs = yaml.safe_load(compiled("github", max_parallel=5))["jobs"]
    assert jobs["Fetch"]["strategy"]["max-parallel"] == 2  # the lower of the two caps
    jobs = yaml.safe_load(compiled("github", max_parallel=1))["jobs"]
    assert jobs["Fetch"]["strategy"]["max-parallel"] == 1
