"""Generated DAGs on a real Airflow: they load, they run, and they compute what laminar run does.

Airflow lives in its own venv (.ci/setup-airflow.sh); ``$LAMINAR_AIRFLOW_PYTHON`` is its
interpreter. Two subprocesses (driver.py) each load every DAG in a DagBag and run half of them
with ``dag.test()``, so Airflow's start-up is paid twice, not once per DAG. Results are then
read back from the datastore with laminar's own API and compared with a ``laminar run``.

The Airflow under test has ``[core] max_map_length`` lowered to 8: every example fans out
less than that; WideFlow (21 tasks), compiled without options, must batch into 8 legs because
its planning task reads the setting where it runs; compiled with ``--max-map-length 100`` it
must fail, which shows the limit is real and the override is honoured.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES, ROOT, laminar, require_engine
from flows import branching as BRANCHING
from flows.cached import EXPECTED as CACHED_EXPECTED
from flows.cached import SERVED as CACHED_SERVED
from flows.dated import EXPECTED as DATED_EXPECTED
from flows.dated import LOGICAL as DATED_LOGICAL
from flows.inputs import NASTY

from laminar.errors import LaminarError
from laminar.model.loader import load_flow
from laminar.runtime.results import open_results

pytestmark = pytest.mark.e2e

HERE = Path(__file__).resolve().parent
FLOWS = HERE / "flows"
MAX_MAP_LENGTH = 8
CHAINED = "tests/flows/chained.py"
#: A secret's value: in the Airflow Variable only, never in the DAG file or the datastore.
SECRET_VALUE = "airflow-variable-value/with+slash="


@dataclass(frozen=True)
class Case:
    dag_id: str
    #: The flow file, relative to the repository root (as a user compiles it).
    flow: str
    options: tuple[str, ...] = ()
    run: bool = True
    expect: str = "success"
    compare: bool = True
    env: dict[str, str] = field(default_factory=dict)
    #: ``dag.test(run_conf=...)``: the run's inputs, as `airflow dags trigger --conf` gives them.
    conf: dict[str, Any] = field(default_factory=dict)
    #: ``dag.test(logical_date=...)``: a run for that logical time (ISO), not now.
    logical_date: str = ""
    #: A ``laminar run`` into the DAGs' datastore first (``--datastore`` added).
    before: tuple[str, ...] = ()
    #: Runs that build on each other share a series: one driver runs them, in this order.
    series: str = ""


def cases() -> list[Case]:
    found = [
        Case(f"example_{p.stem}", str(p.relative_to(ROOT))) for p in sorted(EXAMPLES.glob("*.py"))
    ]
    return [
        *found,
        Case("retry_once", "tests/airflow/flows/retry_once.py"),
        # Batched under the deployment's [core] max_map_length, read where the DAG runs.
        Case("wide", "tests/airflow/flows/wide.py"),
        # --max-map-length overrides it; over the deployment's limit, the plan fails.
        Case(
            "wide_override",
            "tests/airflow/flows/wide.py",
            ("--max-map-length", "100"),
            expect="failed",
            compare=False,
        ),
        # Compared in test_hostile_names_stay_names: its env value exists only on workers.
        Case("hostile", "tests/flows/hostile.py", compare=False),
        Case("failing", "tests/airflow/flows/failing.py", expect="failed", compare=False),
        # Timeouts: execution_timeout per try, dagrun_timeout for the run.
        Case("guarded", "tests/flows/guarded.py"),
        Case("hangs", "tests/airflow/flows/hangs.py", expect="failed", compare=False),
        # Exit hooks: a final task on any outcome; it fails the run when the run failed.
        Case("alerting", "tests/flows/exits.py:Alerting"),
        Case(
            "alerting_fails", "tests/flows/exits.py:AlertingFails", expect="failed", compare=False
        ),
        # A layer's secret from an Airflow Variable (AIRFLOW_VAR_<NAME>), its queue set.
        Case("placed", "tests/flows/placed.py", env={"WAREHOUSE_TOKEN": SECRET_VALUE}),
        Case("inputs", "tests/flows/inputs.py", conf=INPUTS_CONF),
        # LogicalDate() inputs (text, date, datetime) of a run for a given logical time.
        Case("dated", "tests/flows/dated.py", logical_date=DATED_LOGICAL, compare=False),
        # Fan-outs following another's legs (no plan of their own), one over an empty shard.
        Case("following", "tests/flows/following.py:Following"),
        Case("following_nothing", "tests/flows/following.py:Nothing"),
        # Entry hooks, skips after skips, Catch: compared in test_branching_*.
        *(
            Case(f"branching_{name}", f"tests/flows/branching.py:{name}", compare=False)
            for name in BRANCHING.FLOWS
        ),
        # A chain of flows: refused in a deployed exit hook (the run fails, Flow2 runs nowhere);
        # deployed instead, only Flow1's execution id travels and the task reads its results.
        Case("chained_hooked", f"{CHAINED}:Hooked", expect="failed", compare=False),
        Case(
            "chained_linked",
            f"{CHAINED}:Linked",
            conf={"first": "chain-first"},
            compare=False,
            before=("run", f"{CHAINED}:Flow1", "--execution", "chain-first", "-q"),
        ),
        # Caching across executions: three runs of one flow in one datastore, the last one
        # with the switch that ignores the cache (test_a_second_run_is_served_from_the_cache).
        *(
            Case(f"cached_{n}", "tests/flows/cached.py", compare=False, conf=c, series="cached")
            for n, c in (("one", {}), ("two", {}), ("three", {"laminar_no_cache": True}))
        ),
        # Each task runs laminar in its own process by default; --shim subprocess starts one.
        Case("grid_subprocess", "examples/grid.py", ("--shim", "subprocess")),
        # Loaded only (no cluster here): the Kubernetes variant must import and build.
        Case(
            "example_grid_kubernetes",
            "examples/grid.py",
            ("--operator", "kubernetes", "--image", "registry.example/flows:{{1}}"),
            run=False,
        ),
    ]


#: Non-default inputs of tests/flows/inputs.py, typed as Airflow's params validate them.
INPUTS_CONF = {
    "note": NASTY,
    "sample": 3,
    "ratio": 0.25,
    "full": True,
    "mode": "full",
    "tags": ["x", "y"],
}
CASES = cases()


#: Driver processes run side by side, each with its own sqlite database (2 cores here).
DRIVERS = 2


@pytest.fixture(scope="module")
def airflow(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Compile every case, run the drivers once; returns their merged report plus paths."""
    python = require_engine("LAMINAR_AIRFLOW_PYTHON", "Airflow")
    work = tmp_path_factory.mktemp("airflow")
    dags, store, markers = work / "dags", work / "store", work / "markers"
    dags.mkdir()
    markers.mkdir()
    for case in CASES:
        datastore = "s3://bucket/flows" if "kubernetes" in case.options else str(store)
        laminar(
            "compile", case.flow, "--target", "airflow", "--dag-id", case.dag_id,
            "--datastore", datastore, *case.options,  # tasks run in the DAG's folder
            "-o", str(dags / f"{case.dag_id}.py"),
            cwd=ROOT,
        )  # fmt: skip
        if case.before:
            laminar(*case.before, "--datastore", str(store), cwd=ROOT)
    series: dict[str, list[str]] = {}  # a series to one driver, in order
    for case in CASES:
        if case.run:
            series.setdefault(case.series or case.dag_id, []).append(case.dag_id)
    to_run = list(series.values())
    started = []
    for index in range(DRIVERS):
        home = work / f"home{index}"
        home.mkdir()
        env = {
            **os.environ,
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__MAX_MAP_LENGTH": str(MAX_MAP_LENGTH),
            "LAMINAR_TEST_MARKERS": str(markers),
            "LAMINAR_TEST_POOLS": "warehouse",  # Container(pool=...) of tests/flows/placed.py
            "LAMINAR_TEST_CONF": json.dumps({c.dag_id: c.conf for c in CASES if c.conf}),
            "LAMINAR_TEST_LOGICAL_DATES": json.dumps(
                {c.dag_id: c.logical_date for c in CASES if c.logical_date}
            ),
            # Each case's secrets as Airflow Variables, as a deployment's secrets backend.
            **{f"AIRFLOW_VAR_{k}": v for c in CASES for k, v in c.env.items()},
        }
        env.pop("LAMINAR_DATASTORE", None)
        migrated_db(python, env, home)
        report = work / f"report{index}.json"
        log = (work / f"airflow{index}.log").open("w")
        command = [python, str(HERE / "driver.py"), str(dags), str(report)]
        command += [dag_id for ids in to_run[index::DRIVERS] for dag_id in ids]
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        started.append((process, report, log))
    result: dict[str, Any] = {"runs": {}}
    for process, report, log in started:
        code = process.wait(timeout=900)
        log.close()
        assert code == 0, f"driver failed: see {log.name}\n{Path(log.name).read_text()[-3000:]}"
        part = json.loads(report.read_text())
        result["runs"].update(part.pop("runs"))
        result.update(part)  # every driver loads all DAGs: same import report
    result.update(store=str(store), work=work, markers=markers)
    return result


def migrated_db(python: str, env: dict[str, str], home: Path) -> None:
    """A migrated airflow.db in ``home``: copied from the setup script's, else migrated here."""
    template = Path(os.environ.get("LAMINAR_AIRFLOW_HOME", "/nonexistent")) / "airflow.db"
    if template.is_file():
        shutil.copy(template, home / "airflow.db")
    else:
        migrate = [python, "-m", "airflow", "db", "migrate"]
        subprocess.run(migrate, env=env, check=True, capture_output=True, timeout=300)


def test_every_generated_dag_loads_without_import_errors(airflow: dict[str, Any]) -> None:
    assert airflow["import_errors"] == {}
    assert sorted(airflow["dags"]) == sorted(c.dag_id for c in CASES)
    # Parsing the DAG files imported neither laminar nor a user's flow.
    assert airflow["imported_by_parsing"] == []


def test_kubernetes_dag_keeps_user_text_out_of_jinja(airflow: dict[str, Any]) -> None:
    rendered = airflow["rendered"]["example_grid_kubernetes"]
    # The mapped task renders per map index; Shard's pod plans Process (issue 24).
    assert set(rendered) == {"Shard"}
    shard = rendered["Shard"]
    assert shard["image"] == "registry.example/flows:{{1}}"
    assert shard["cmds"] == [
        "laminar", "task", "examples/grid.py:GridFlow", "--layer=Shard", "--format", "list",
        "--then-plan=Process", "--plan-output=/airflow/xcom/return.json",
    ]  # fmt: skip
    assert shard["env"]["LAMINAR_EXECUTION"] == "manual__rendered"
    assert shard["env"]["LAMINAR_ATTEMPT"] == "2"  # the task instance's try number
    assert shard["env"]["LAMINAR_LOGICAL_DATE"] == "2026-11-25T03:00:00+00:00"
    assert shard["env"]["LAMINAR_DATASTORE"] == "s3://bucket/flows"


@pytest.mark.parametrize("case", [c for c in CASES if c.run], ids=lambda c: c.dag_id)
def test_dag_runs_end_to_end(case: Case, airflow: dict[str, Any], tmp_path: Path) -> None:
    run = airflow["runs"][case.dag_id]
    failed = [t for t in run["tasks"] if t["state"] not in ("success", "skipped")]
    assert run["state"] == case.expect, f"tasks not successful: {failed}"
    if not case.compare:
        return
    flow = load_flow(str(ROOT / case.flow))
    local = tmp_path / "local"
    params = [
        f"-p{name}={value if isinstance(value, str) else json.dumps(value)}"
        for name, value in case.conf.items()
    ]
    laminar("run", case.flow, "--datastore", str(local), "--execution", "ref", "-q", *params,
            cwd=ROOT, env={"LAMINAR_TEST_MARKERS": str(tmp_path), **case.env})  # fmt: skip
    expected = open_results(flow, "ref", str(local)).snapshot()
    got = open_results(flow, run["run_id"], airflow["store"]).snapshot()
    assert got == expected
    assert any(values for values in expected.values()), "the flow produced no results"


def tasks(airflow: dict[str, Any], dag_id: str, task_id: str) -> list[dict[str, Any]]:
    return [t for t in airflow["runs"][dag_id]["tasks"] if t["task_id"] == task_id]


def test_a_second_run_is_served_from_the_cache_and_the_switch_ignores_it(
    airflow: dict[str, Any],
) -> None:
    runs = [airflow["runs"][f"cached_{n}"] for n in ("one", "two", "three")]
    assert [run["state"] for run in runs] == ["success"] * 3
    flow = load_flow(str(ROOT / "tests/flows/cached.py"))
    executions = [run["run_id"] for run in runs]
    for execution in executions:
        assert open_results(flow, execution, airflow["store"]).snapshot() == CACHED_EXPECTED

    def shown(execution: str) -> str:
        datastore = ("--datastore", airflow["store"])
        command = ("show", "tests/flows/cached.py", "--execution", execution, *datastore)
        return laminar(*command, cwd=ROOT).stdout

    second = shown(executions[1])
    assert all(line.format(first=executions[0]) in second for line in CACHED_SERVED), second
    assert "cached from" not in shown(executions[2])  # conf {"laminar_no_cache": true}


def test_empty_fan_out_skips_only_the_mapped_task(airflow: dict[str, Any]) -> None:
    (process,) = tasks(airflow, "example_empty", "Process")
    (report,) = tasks(airflow, "example_empty", "Report")
    assert process["state"] == "skipped"
    assert report["state"] == "success"


def test_a_failure_fails_the_run_and_stops_dependants(airflow: dict[str, Any]) -> None:
    states = {t["task_id"]: t["state"] for t in airflow["runs"]["failing"]["tasks"]}
    # The empty fan-out before Boom (planned by Shard's task) is skipped, Boom still runs (and
    # fails), After never runs.
    assert states == {
        "Shard": "success",
        "Nothing": "skipped",
        "Boom": "failed",
        "After": "upstream_failed",
    }


def test_a_task_past_its_timeout_is_stopped_and_fails_the_run(airflow: dict[str, Any]) -> None:
    states = {t["task_id"]: t["state"] for t in airflow["runs"]["hangs"]["tasks"]}
    assert states == {"Hang": "failed", "After": "upstream_failed"}
    assert not (airflow["markers"] / "hang-finished").exists()


def test_a_layers_secret_comes_from_a_variable_and_is_stored_nowhere(
    airflow: dict[str, Any],
) -> None:
    run = airflow["runs"]["placed"]
    results = open_results(load_flow(str(ROOT / "tests/flows/placed.py")), run["run_id"],
                           airflow["store"])  # fmt: skip
    assert results["Train"].sees_token is False  # only Pull's tasks get it
    pools = {t["task_id"]: t["pool"] for t in run["tasks"]}
    assert pools == {"Pull": "warehouse", "Train": "default_pool"}  # Container(pool=...)
    assert len(results["Pull"].token_digest) == 12
    files = [*Path(airflow["store"]).rglob("*"), *Path(airflow["work"], "dags").glob("*.py")]
    for path in files:
        if path.is_file():
            assert SECRET_VALUE.encode() not in path.read_bytes(), path


def test_exit_hooks_run_once_after_success_and_after_failure(airflow: dict[str, Any]) -> None:
    ok, bad = airflow["runs"]["alerting"], airflow["runs"]["alerting_fails"]
    told = {
        dag: [json.loads(line) for line in (airflow["markers"] / f"exit-{run['run_id']}")
              .read_text().splitlines()]
        for dag, run in (("alerting", ok), ("alerting_fails", bad))
    }  # fmt: skip
    assert told["alerting"] == [{"succeeded": True, "failures": []}]
    assert told["alerting_fails"] == [
        {"succeeded": False, "failures": [["Breaks", 1, "ValueError: item 2 is broken", 1]]}
    ]
    states = {t["task_id"]: t["state"] for t in bad["tasks"] if t["task_id"] != "Breaks"}
    assert states == {
        "Start": "success", "After": "upstream_failed",  # Start's task plans Breaks
        "on-exit": "failed",  # the DAG's only leaf: it leaves the run failed
    }  # fmt: skip
    assert {t["task_id"]: t["state"] for t in ok["tasks"]}["on-exit"] == "success"


def test_a_chain_in_a_deployed_exit_hook_is_refused(airflow: dict[str, Any]) -> None:
    run = airflow["runs"]["chained_hooked"]
    states = {t["task_id"]: t["state"] for t in run["tasks"]}
    assert states == {"A": "success", "on-exit": "failed"}  # the hook's .next raised
    flow2 = load_flow(f"{ROOT / CHAINED}:Flow2")(datastore=airflow["store"])
    with pytest.raises(LaminarError, match="Unknown execution"):
        flow2.execution(run["run_id"]).layer("B")


def test_the_next_flow_deployed_reads_the_first_by_its_id_as_a_local_chain(
    airflow: dict[str, Any], tmp_path: Path
) -> None:
    """Linked ran on Airflow with Flow1's execution id as its conf; what it read equals what
    Flow2 got from the local chain (``python chained.py``: Flow1 then ``.next``)."""
    subprocess.run(
        [sys.executable, str(ROOT / CHAINED), "--execution", "ref"], cwd=tmp_path, check=True,
        env={**os.environ, "LAMINAR_DATASTORE": str(tmp_path)}, capture_output=True,
    )  # fmt: skip
    local = open_results(load_flow(f"{ROOT / CHAINED}:Flow2"), "ref", str(tmp_path))
    run = airflow["runs"]["chained_linked"]
    assert run["state"] == "success"
    linked = open_results(load_flow(f"{ROOT / CHAINED}:Linked"), run["run_id"], airflow["store"])
    assert linked["Read"].foo == local["B"].foo == "bar"


def test_airflow_retries_a_failed_task(airflow: dict[str, Any]) -> None:
    flaky = tasks(airflow, "retry_once", "Flaky")
    assert [(t["map_index"], t["state"]) for t in flaky] == [(i, "success") for i in range(3)]
    assert [t["try_number"] for t in flaky] == [1, 2, 1]
    flow = load_flow(str(ROOT / "tests/airflow/flows/retry_once.py"))
    results = open_results(flow, airflow["runs"]["retry_once"]["run_id"], airflow["store"])
    assert list(results["Flaky"].tried) == [1, 2, 1]  # self.attempt is the try number
    assert (airflow["markers"] / "flaky-1").exists()


def test_wide_fan_out_is_batched_under_max_map_length(airflow: dict[str, Any]) -> None:
    square = tasks(airflow, "wide", "Square")
    assert len(square) == MAX_MAP_LENGTH
    assert {t["state"] for t in square} == {"success"}


def test_an_override_over_max_map_length_fails_the_plan(airflow: dict[str, Any]) -> None:
    """Shard's task plans Square (issue 24): it is the task whose legs Airflow refuses."""
    assert tasks(airflow, "wide_override", "Square-plan") == []
    (plan,) = tasks(airflow, "wide_override", "Shard")
    assert plan["state"] == "failed"


def test_inputs_reach_every_task_unchanged(airflow: dict[str, Any]) -> None:
    """The run's conf reaches every task (plain, planning and mapped) exactly; the results
    equal a local run with the same inputs (checked in test_dag_runs_end_to_end)."""
    flow = load_flow(str(ROOT / "tests" / "flows" / "inputs.py"))
    got = open_results(flow, airflow["runs"]["inputs"]["run_id"], airflow["store"]).snapshot()
    assert got["Source"]["seen"] == INPUTS_CONF
    assert got["Report"]["outs"] == ["full:0.0", "full:0.25", "full:0.5"]


def test_a_run_for_a_past_logical_date_processes_that_day(airflow: dict[str, Any]) -> None:
    """LogicalDate() inputs take the run's logical date (what ``ds`` gives) in the schedule's
    timezone, as text, a date and a datetime: 23:30 UTC on the 24th is the 25th in Paris."""
    flow = load_flow(str(ROOT / "tests" / "flows" / "dated.py"))
    got = open_results(flow, airflow["runs"]["dated"]["run_id"], airflow["store"]).snapshot()
    assert got["Read"]["seen"] == DATED_EXPECTED


def test_hostile_names_stay_names(airflow: dict[str, Any]) -> None:
    """Keywords, builtins and options as layer names, code in the flow's name: the DAG
    parses, runs every task, and no line of the flow's name ran as code."""
    states = {t["task_id"]: t["state"] for t in airflow["runs"]["hostile"]["tasks"]}
    # ïif fans out over Items and waits for dict too: Items's task plans it (issue 24).
    assert set(states) == {"x_--help", "Items", "dict", "if", "match", "print"}
    assert set(states.values()) == {"success"}
    assert not Path("/tmp/laminar-pwned").exists()
    flow = load_flow(str(ROOT / "tests" / "flows" / "hostile.py"))
    got = open_results(flow, airflow["runs"]["hostile"]["run_id"], airflow["store"]).snapshot()
    from flows.hostile import VALUE

    assert got["--help"]["env"] == VALUE  # Container(env=...) arrived exactly
    assert got["print"]["seen"] == ["u0", "u1"]
    assert got["Items"]["n"] == [1, 2, 3]


def states_of(airflow: dict[str, Any], dag_id: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for task in airflow["runs"][dag_id]["tasks"]:
        found.setdefault(task["task_id"], []).append(task["state"])
    return found


@pytest.mark.parametrize("name", sorted(BRANCHING.FLOWS))
def test_branching_records_equal_a_local_run(
    name: str, airflow: dict[str, Any], tmp_path: Path
) -> None:
    """Which layers ran, which were skipped and why, and what each saw: as laminar run."""
    flow = BRANCHING.FLOWS[name]
    local = flow(datastore=str(tmp_path / "local"))()
    expected = BRANCHING.records(flow, local.id, str(tmp_path / "local"))
    got = BRANCHING.records(flow, airflow["runs"][f"branching_{name}"]["run_id"], airflow["store"])
    assert got == expected


def test_skipped_layers_end_in_airflows_skipped_state(airflow: dict[str, Any]) -> None:
    """The original library's conditional flow: B's entry hook skips it (B's own task runs the
    hook and ends skipped by the shim's exit status: no planning task, issue 24), D after it is
    skipped the same way, and E, whose entry hook decides, runs after the skip."""
    states = states_of(airflow, "branching_ConditionalFlow")
    assert states == {
        "A": ["success"],
        "B": ["skipped"],
        "C": ["success"],
        "D": ["skipped"],
        "E": ["success"],
    }


def test_branches_skip_deep_and_catch_without_failing(airflow: dict[str, Any]) -> None:
    states = states_of(airflow, "branching_Branches")
    assert airflow["runs"]["branching_Branches"]["state"] == "success"
    assert states["Publish"] == ["skipped"]
    for layer in ("Announce", "Archive", "UseLookup"):  # one, three deep; after a caught error
        assert states[layer] == ["skipped"], layer
    assert states["Notify"] == ["skipped"]  # a ForEach over a skipped layer: no legs
    assert states["Lookup"] == ["success"]  # its error was caught: the run goes on
    # A branch inside a fan-out: each leg is one task here; even items skipped.
    assert states["Square"] == ["success", "skipped", "success", "skipped", "success"]
    # Mapped 1:1 after it: skipped where Square was; 9 is caught (success).
    assert states["Halve"] == ["success", "skipped", "success", "skipped", "success"]
    assert states["Report"] == ["success"]


def test_shapes_end_in_the_states_their_decisions_give(airflow: dict[str, Any]) -> None:
    states = states_of(airflow, "branching_Shapes")
    assert airflow["runs"]["branching_Shapes"]["state"] == "success"
    # A diamond after a skip: both sides skipped, the join with an entry hook runs.
    for layer in ("Gate", "Left", "Right"):
        assert states[layer] == ["skipped"], layer
    assert states["Meet"] == ["success"]
    # Every task skipped by its entry hook: each mapped task is skipped, the layer after
    # the fan-out still runs (on an empty join).
    assert states["OddOnly"] == ["skipped", "skipped", "skipped"]
    assert states["AfterNone"] == ["success"]
    # A caught task succeeds; the recovery branch mapped onto it runs there alone.
    assert states["Fragile"] == ["success", "success", "success"]
    assert states["Mend"] == ["skipped", "success", "skipped"]
    assert states["Grid"].count("skipped") == 1 and len(states["Grid"]) == 6
    assert states["End"] == ["success"]
