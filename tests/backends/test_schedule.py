"""Scheduled flows: ``Schedule(...)`` and ``max_active_runs`` declared in the flow and rendered
natively (Argo CronWorkflow, Airflow schedule, GitHub on.schedule), ``LogicalDate()`` inputs
bound to the run's logical date everywhere, bad crons and unbound required inputs refused."""

from __future__ import annotations

import datetime
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml
from argo.schema import assert_valid_workflow
from conftest import ROOT, laminar

from laminar import Flow, Layer, LogicalDate, Schedule
from laminar.backends import generate
from laminar.errors import CompileError, ConfigurationError
from laminar.model.loader import load_flow

NIGHTLY = "examples/nightly.py"


def nightly() -> Any:
    return load_flow(str(ROOT / NIGHTLY)).ir()


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        ("61 * * * *", "the minute field '61'"),
        ("0 24 * * *", "the hour field '24'"),
        ("0 3 * *", "five cron fields"),
        ("0 3 * * funday", "the day of week field 'funday'"),
        ("*/0 * * * *", "the minute field '*/0'"),
    ],
)
def test_a_bad_cron_names_the_field(cron: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message.replace("*", r"\*")):
        Schedule(cron)


def test_a_schedule_takes_presets_and_timezone_names() -> None:
    assert Schedule("@daily").cron == "0 0 * * *"
    with pytest.raises(ConfigurationError, match="not a timezone name"):
        Schedule("0 3 * * *", timezone="Mars/Olympus")


def run(tmp_path: Path, *extra: str, env: dict[str, str] | None = None) -> str:
    done = laminar(
        "run", NIGHTLY, "--datastore", str(tmp_path / "store"), "-q", *extra, cwd=ROOT, env=env
    )
    return done.stdout.strip()


def test_a_local_run_processes_today_or_the_date_given(tmp_path: Path) -> None:
    today = datetime.datetime.now(datetime.timezone.utc)
    paris = today.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Paris")).date()
    assert run(tmp_path) == f"loaded 100 rows of day={paris.isoformat()}"
    assert run(tmp_path, "--logical-date", "2026-11-25") == "loaded 100 rows of day=2026-11-25"
    assert run(tmp_path, "-p", "date=2026-11-20") == "loaded 100 rows of day=2026-11-20"
    # An orchestrator's logical date (Airflow's, Argo's), in the schedule's timezone.
    handed = {"LAMINAR_LOGICAL_DATE": "2026-11-24T23:30:00+00:00"}
    assert run(tmp_path, env=handed) == "loaded 100 rows of day=2026-11-25"


def test_the_date_is_committed_once_so_a_resume_keeps_it(tmp_path: Path) -> None:
    run(tmp_path, "--execution", "e1", "--logical-date", "2026-11-25")
    shown = laminar(
        "show", NIGHTLY, "--execution", "e1", "--datastore", str(tmp_path / "store"), cwd=ROOT
    ).stdout
    assert "date='2026-11-25'" in shown
    resumed = laminar(
        "run", NIGHTLY, "--execution", "e1", "--datastore", str(tmp_path / "store"), cwd=ROOT,
        env={"LAMINAR_LOGICAL_DATE": "2030-01-01"},
    )  # fmt: skip
    assert resumed.returncode == 0
    again = laminar(
        "show", NIGHTLY, "Extract.partition", "--execution", "e1", "--datastore",
        str(tmp_path / "store"), cwd=ROOT,
    )  # fmt: skip
    assert "day=2026-11-25" in again.stdout


def test_argo_renders_a_cron_workflow() -> None:
    doc = yaml.safe_load(
        generate("argo", nightly(), flow_ref=NIGHTLY, image="i:1", datastore="s3://b/p")
    )
    assert doc["kind"] == "CronWorkflow"
    spec = doc["spec"]
    assert spec["schedules"] == ["0 3 * * *"]
    assert spec["timezone"] == "Europe/Paris"
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["startingDeadlineSeconds"] == 86400
    params = {p["name"]: p.get("value") for p in spec["workflowSpec"]["arguments"]["parameters"]}
    assert params == {"date": "", "rows": "100"}
    assert_valid_workflow(doc)


def test_airflow_renders_the_schedule_in_its_timezone() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        text = generate("airflow", nightly(), flow_ref=NIGHTLY)
    assert "schedule='0 3 * * *'," in text
    assert "start_date=pendulum.datetime(2024, 1, 1, 0, 0, 0, tz='Europe/Paris')," in text
    assert "catchup=True," in text and "max_active_runs=1," in text
    assert '\'date\': Param(None, type=["null", "string"]),' in text
    assert any("--start-date" in str(w.message) for w in caught)  # catching up from 2024


def test_github_renders_the_schedule_in_its_timezone_and_one_run_at_a_time() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        doc = yaml.safe_load(generate("github", nightly(), flow_ref=NIGHTLY))
    # YAML 1.1 reads `on` as True; GitHub reads the cron in `timezone` (an IANA name).
    assert doc[True]["schedule"] == [{"cron": "0 3 * * *", "timezone": "Europe/Paris"}]
    assert doc["concurrency"] == {"group": "${{ github.workflow }}", "cancel-in-progress": False}
    assert doc[True]["workflow_dispatch"]["inputs"]["date"]["required"] is False
    texts = [str(w.message) for w in caught]
    assert not any("UTC" in t for t in texts)  # the timezone is honoured, not warned about
    assert any("does not run missed schedules" in t for t in texts)


@pytest.mark.parametrize("target", ["argo", "airflow", "github"])
def test_a_scheduled_flow_with_a_required_input_is_refused(target: str) -> None:
    flow: type[Flow] = type(
        "Needs", (Flow,), {"__annotations__": {"date": str}, "_": None},
    )  # fmt: skip
    flow = type("Needs", (flow,), {}, schedule=Schedule("@daily"))

    @flow.register
    class A(Layer):
        def __call__(self) -> None: ...

    with pytest.raises(CompileError, match="its input 'date' has no default"):
        generate(target, flow.ir(), flow_ref="n.py", image="i:1", datastore="s3://b/p")


@pytest.mark.parametrize(
    ("target", "options"),
    [("argo", {"kind": "cron-workflow", "schedule": ("61 * * * *",)}),
     ("airflow", {"schedule": "61 * * * *"}),
     ("github", {"schedule": ("61 * * * *",)})],
)  # fmt: skip
def test_a_bad_cron_option_is_refused_for_every_target(
    target: str, options: dict[str, Any]
) -> None:
    class Plain(Flow): ...

    @Plain.register
    class A(Layer):
        def __call__(self) -> None: ...

    with pytest.raises(CompileError, match="the minute field '61'"):
        generate(target, Plain.ir(), flow_ref="p.py", image="i:1", datastore="s3://b/p", **options)


def test_a_logical_date_input_is_text() -> None:
    class Dated(Flow):
        day: int = LogicalDate()  # type: ignore[assignment]

    @Dated.register
    class A(Layer):
        def __call__(self) -> None: ...

    with pytest.raises(Exception, match="annotate it day: str"):
        Dated.ir()
