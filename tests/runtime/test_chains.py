"""A chain of flows (``Execution.next``) runs locally; in a deployed task (``laminar task``,
``laminar exit``, as an orchestrator starts them) it is refused with the alternatives, and the
next flow writes nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import ROOT, laminar

from laminar.errors import LaminarError
from laminar.model.loader import load_flow

FLOWS = str(ROOT / "tests" / "flows" / "chained.py")
REFUSED = "Execution.next in a deployed task of flow"
ALTERNATIVES = (
    "a chain of flows ({first} then Flow2) runs locally only (Flow2 would run whole inside "
    "this one task, unseen by the orchestrator). Compose the flows into one flow and compile "
    "it (class Both({first}, Flow2), a layer of Flow2 taking {first}'s layer as an argument), "
    "or compile Flow2 too and start it from {first}'s workflow with the orchestrator, passing "
    "{first}'s execution id as an input to read its results by"
)


def flow2_ran(store: Path, execution: str) -> bool:
    try:
        flow2 = load_flow(f"{FLOWS}:Flow2")(datastore=str(store))
        return flow2.execution(execution).layer("B").foo == "bar"
    except LaminarError:
        return False


def test_the_scripts_chain_runs_locally(tmp_path: Path) -> None:
    env = {"LAMINAR_DATASTORE": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, FLOWS, "--execution", "here"], cwd=tmp_path, env=env,
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert flow2_ran(tmp_path, "here")


def test_an_exit_hook_chains_locally_and_is_refused_deployed(tmp_path: Path) -> None:
    store = tmp_path / "store"
    laminar("run", f"{FLOWS}:Hooked", "--execution", "here", "--datastore", str(store), cwd=ROOT)
    assert flow2_ran(store, "here")

    deployed = ("--execution", "there", "--datastore", str(store))
    laminar("task", f"{FLOWS}:Hooked", "--layer=A", *deployed, cwd=ROOT)
    done = laminar("exit", f"{FLOWS}:Hooked", *deployed, cwd=ROOT, check=False)
    assert done.returncode == 1
    assert f"{REFUSED} Hooked: {ALTERNATIVES.format(first='Hooked')}" in done.stderr
    assert not flow2_ran(store, "there")


def test_a_task_that_chains_is_refused_naming_its_layer(tmp_path: Path) -> None:
    env = {"LAMINAR_DATASTORE": str(tmp_path), "LAMINAR_EXECUTION": "x"}
    laminar("task", f"{FLOWS}:Flow1", "--layer=A", cwd=ROOT, env=env)
    done = laminar("task", f"{FLOWS}:Inline", "--layer=Chain", cwd=ROOT, env=env, check=False)
    assert done.returncode != 0
    refused = f"{REFUSED} Inline, layer Chain: {ALTERNATIVES.format(first='Flow1')}"
    assert refused in done.stderr
    assert not flow2_ran(tmp_path, "x")
