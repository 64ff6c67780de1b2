"""``@hooks.exit``: once per run, after success or failure, with ``succeeded``, ``failures``
(layer, task, error, attempts) and the results; a failing hook is reported and never hides
the run's own result; each target starts it its own way, once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from argo.schema import assert_valid_workflow
from conftest import ROOT, laminar

from laminar import Flow, Layer
from laminar.backends import generate
from laminar.configurations import hooks
from laminar.errors import FlowDefinitionError
from laminar.model.loader import load_flow

FLOWS = "tests/flows/exits.py"


def told(markers: Path, execution: str) -> list[dict[str, object]]:
    path = markers / f"exit-{execution}"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def run(flow: str, tmp_path: Path, execution: str, *extra: str) -> int:
    done = laminar(
        "run", f"{FLOWS}:{flow}", "--datastore", str(tmp_path / "store"), "--execution",
        execution, *extra, cwd=ROOT, check=False, env={"LAMINAR_TEST_MARKERS": str(tmp_path)},
    )  # fmt: skip
    return done.returncode


def test_the_exit_hook_runs_once_after_success(tmp_path: Path) -> None:
    assert run("Alerting", tmp_path, "ok") == 0
    assert told(tmp_path, "ok") == [{"succeeded": True, "failures": []}]
    assert run("Alerting", tmp_path, "ok") == 0  # resumed, nothing left: told again? no
    assert len(told(tmp_path, "ok")) == 1


def test_the_exit_hook_runs_once_after_failure_with_the_failed_task(tmp_path: Path) -> None:
    assert run("AlertingFails", tmp_path, "bad") == 1
    assert told(tmp_path, "bad") == [
        {"succeeded": False, "failures": [["Breaks", 1, "ValueError: item 2 is broken", 1]]}
    ]
    # `laminar exit` (what the deployed exit job runs) finds the hooks already ran.
    done = laminar(
        "exit", f"{FLOWS}:AlertingFails", "--execution", "bad", "--datastore",
        str(tmp_path / "store"), "--fail-if-run-failed", cwd=ROOT, check=False,
        env={"LAMINAR_TEST_MARKERS": str(tmp_path)},
    )  # fmt: skip
    assert done.returncode == 1 and "the run failed: ValueError: item 2 is broken" in done.stderr
    assert len(told(tmp_path, "bad")) == 1


def test_a_failing_exit_hook_is_reported_and_the_runs_result_stands(
    write_flow: object, tmp_path: Path
) -> None:
    flow = tmp_path / "flow.py"
    flow.write_text(
        "from laminar import Flow, Layer\nfrom laminar.configurations import hooks\n\n"
        "class F(Flow):\n    @hooks.exit\n    def notify(self, execution) -> None:\n"
        "        raise RuntimeError('chat is down')\n\n"
        "@F.register\nclass A(Layer):\n    def __call__(self) -> None:\n        self.x = 1\n"
    )
    done = laminar("run", str(flow), "--datastore", str(tmp_path / "s"), cwd=tmp_path)
    assert done.returncode == 0  # the run succeeded; the hook's failure does not change it
    assert "exit hook F.notify failed" in done.stderr
    assert "RuntimeError: chat is down" in done.stderr
    assert "raise RuntimeError('chat is down')" in done.stderr  # the user's own line


def test_an_exit_hook_belongs_on_the_flow_and_takes_the_execution() -> None:
    class F(Flow): ...

    @F.register
    class A(Layer):
        @hooks.exit
        def notify(self, execution: object) -> None: ...

        def __call__(self) -> None: ...

    with pytest.raises(FlowDefinitionError, match="belongs on the flow: move it to class F"):
        F.ir()

    class G(Flow):
        @hooks.exit
        def notify(self) -> None: ...

    @G.register
    class B(Layer):
        def __call__(self) -> None: ...

    with pytest.raises(FlowDefinitionError, match=r"def notify\(self, execution\)"):
        G.ir()


def test_each_target_starts_the_exit_hooks_its_own_way() -> None:
    ir = load_flow(f"{ROOT / FLOWS}:AlertingFails").ir()
    argo = yaml.safe_load(
        generate("argo", ir, flow_ref="exits.py:AlertingFails", image="i:1", datastore="s3://b/p")
    )
    assert_valid_workflow(argo)
    assert argo["spec"]["onExit"] == "on-exit"
    (template,) = [t for t in argo["spec"]["templates"] if t["name"] == "on-exit"]
    assert template["container"]["command"] == ["laminar", "exit", "exits.py:AlertingFails"]
    env = {e["name"]: e.get("value") for e in template["container"]["env"]}
    assert env["LAMINAR_RUN_STATUS"] == "{{workflow.status}}"
    airflow = generate("airflow", ir, flow_ref="exits.py:AlertingFails")
    exit_task = airflow[airflow.index("on_exit = ") :]
    assert 'trigger_rule="all_done",' in exit_task
    assert "'on-exit': ['exit', 'exits.py:AlertingFails', '--fail-if-run-failed']" in airflow
    # Every task precedes it (Breaks is planned in Start's task: no plan task of its own).
    assert "[Start, Breaks, After] >> on_exit" in airflow
    jobs = yaml.safe_load(generate("github", ir, flow_ref="exits.py:AlertingFails"))["jobs"]
    last = jobs["on-exit"]
    assert last["if"] == "${{ always() }}"
    assert set(last["needs"]) == set(jobs) - {"on-exit"} >= {"Start", "Breaks", "After"}
    shim = next(s for s in last["steps"] if s.get("id") == "shim")
    assert "needs.*.result" in shim["env"]["LAMINAR_RUN_STATUS"]
