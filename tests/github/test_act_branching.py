"""Entry hooks, skips and Catch run under act (host mode) as they run locally.

The shim decides (``laminar plan`` prints 0 legs for a layer its hooks skip, ``laminar task``
writes ``finished=false`` for a caught error); each job's ``if:`` then skips what the decision
skips, so act reports those jobs *skipped*, and a layer with its own entry hook after a skip
still runs. What every execution recorded equals a local run's records.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from flows import branching
from flows.branching import FLOWS, records

from github.harness import FLOWS as GITHUB_FLOWS
from github.harness import ActRun, act, compile_workflow, python_version, run_act, snapshot

pytestmark = pytest.mark.e2e

#: Per flow: the jobs act must skip (by their names), and jobs that must run after a skip.
SKIPPED = {
    "ConditionalFlow": {"B", "D"},
    # Notify is planned in Announce's job, which is skipped with it (issue 24).
    "Branches": {"Publish", "Announce", "Notify", "Archive", "UseLookup"},
    "Shapes": {"Gate", "Left", "Right"},
    "Early": {"Big", "Parts", "Each"},
}
RAN = {
    # A's job runs B's entry hooks (issue 24): B has no planning job. E's hook reads no
    # layer: C's job, the nearest that always runs, runs it; so does Lookup's for Report.
    "ConditionalFlow": {"A", "C", "E"},
    # Retrain's job decides Publish (issue 24): Retrain ran, so Measure's wrote no plan.
    "Branches": {"Retrain", "Lookup", "Report"},
    # Fan-outs decide per task: every matrix leg runs, and so do the layers after them.
    "Shapes": {"Gate (plan)", "Meet (plan)", "Meet", "AfterNone", "AfterFragile", "Mend (plan)"}
    | {"Enough (plan)", "Enough", "End"}
    | {f"{layer}-{leg}" for layer in ("OddOnly", "Fragile", "Mend") for leg in (1, 2, 3)}
    | {f"Grid-{leg}" for leg in range(1, 7)},
    # Every plan of Early is made by an earlier job: Scale's plans Big and decides Summary,
    # each plan's lines named by --plan-key, and Mended, since it skipped Big.
    "Early": {"Source", "Scale", "Summary", "Mended"} | {f"Product-{leg}" for leg in (1, 2, 3)},
}

#: Per flow: the layers that did not finish, and a layer with an entry hook after them.
SKIPPED_LAYERS = {
    "ConditionalFlow": ["B", "D"],
    "Branches": ["Publish", "Announce", "Notify", "Archive", "Lookup", "UseLookup"],
    "Shapes": ["Gate", "Left", "Right"],
    "Early": ["Big", "Parts", "Each"],
}
RAN_AFTER_SKIP = {
    "ConditionalFlow": "E",
    "Branches": "Report",
    "Shapes": "Meet",
    "Early": "Summary",
}


@pytest.fixture(scope="module")
def act_run(tmp_path_factory: pytest.TempPathFactory) -> ActRun:
    act()  # skip (or fail in CI) before compiling anything
    root = tmp_path_factory.mktemp("act-branching") / "project"
    root.mkdir(parents=True)
    shutil.copy(Path(branching.__file__), root / "branching.py")
    for name in FLOWS:
        compile_workflow(
            root,
            f"branching.py:{name}",
            f"{name}.yml",
            "--python-version",
            python_version(),
            "--install",
            "command -v laminar",
        )
    return run_act(root, tmp_path_factory.mktemp("act-branching-run"), verbose=True)


def test_every_branching_workflow_succeeds(act_run: ActRun) -> None:
    assert act_run.returncode == 0, act_run.tail()
    assert "Job failed" not in act_run.text()


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_skipped_layers_jobs_are_skipped_and_hooks_after_a_skip_run(
    name: str, act_run: ActRun
) -> None:
    assert act_run.skipped_jobs(name) == SKIPPED[name], act_run.tail()
    ran = act_run.succeeded_jobs(name)
    assert RAN[name] <= ran, sorted(ran)
    assert not ran & SKIPPED[name]


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_records_equal_a_local_run(name: str, act_run: ActRun, tmp_path: Path) -> None:
    flow = FLOWS[name]
    local = tmp_path / "local"
    execution = flow(datastore=str(local))()
    expected = records(flow, execution.id, str(local))
    store = act_run.datastore(name, tmp_path / "act-store")
    got = records(flow, "1", str(store))
    assert got == expected
    # Spot checks, so a pair of runs equally wrong still fails.
    finished = {layer: entry["finished"] for layer, entry in got.items()}  # type: ignore[index]
    for layer in SKIPPED_LAYERS[name]:
        assert finished[layer] is False, layer
    assert finished[RAN_AFTER_SKIP[name]] is True


def test_a_hook_after_a_failure_does_not_run_and_one_after_a_skip_does(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    """``!failure()`` in a hook layer's planning job sees a failure two jobs up, under act."""
    act()
    root = tmp_path_factory.mktemp("act-failure") / "project"
    root.mkdir(parents=True)
    shutil.copy(GITHUB_FLOWS / "hooks_after_failure.py", root / "flow.py")
    options = ("--python-version", python_version(), "--install", "command -v laminar")
    compile_workflow(root, "flow.py", "flow.yml", *options)
    run = run_act(root, tmp_path_factory.mktemp("act-failure-run"), verbose=True)
    assert run.returncode != 0
    assert "Broken fails on purpose" in run.text()
    ran = run.succeeded_jobs("HooksAfterFailure")
    # Start's and Middle's jobs run Side's and Hooked's entry hooks (issue 24), and Start's
    # AfterSide's too: Middle is skipped after the failure, so Hooked's hooks never run and
    # Hooked is skipped too.
    assert {"Start", "AfterSide"} <= ran, sorted(ran)
    assert not ran & {"Middle", "Hooked"}, sorted(ran)
    skipped = run.skipped_jobs("HooksAfterFailure")
    assert {"Side", "Middle", "Hooked"} <= skipped, sorted(skipped)
    assert not (ran | skipped) & {"Side (plan)", "Hooked (plan)", "AfterSide (plan)"}
    store = run.datastore("HooksAfterFailure", tmp_path / "store")
    got = snapshot(root / "flow.py", "1", store)
    assert got["AfterSide"] == {"n": 6}
    assert "Hooked" not in got or got["Hooked"] == {}
