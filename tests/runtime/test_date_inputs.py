"""``datetime.date`` and ``datetime.datetime`` inputs: given as ISO text (``-p``, an
orchestrator's form) or as objects (``flow(...)``), committed as ISO text, read by layers as
``datetime`` objects; ``LogicalDate()`` gives them the run's logical day or time."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from conftest import ROOT, laminar
from flows.dated import EXPECTED, LOGICAL

from laminar import Flow, Layer, LogicalDate, Parameters
from laminar.backends import generate
from laminar.errors import FlowDefinitionError
from laminar.model.loader import load_flow

DATED = "tests/flows/dated.py"


def seen(tmp_path: Path, *extra: str) -> dict[str, object]:
    store = tmp_path / "store"
    laminar("run", DATED, "--datastore", str(store), "--execution", "e", "-q", *extra, cwd=ROOT)
    return load_flow(str(ROOT / DATED)).results("e", str(store)).snapshot()["Read"]["seen"]


def test_logical_date_inputs_take_the_logical_day_and_time_in_the_schedules_zone(
    tmp_path: Path,
) -> None:
    got = seen(tmp_path, "--logical-date", LOGICAL)
    assert got == EXPECTED
    assert type(got["day"]) is datetime.date and type(got["at"]) is datetime.datetime


def test_given_values_win_and_show_lists_them_as_iso_text(tmp_path: Path) -> None:
    got = seen(tmp_path, "-p", "day=2026-02-03", "-p", "at=2026-02-03T04:05:06Z",
               "-p", "since=2025-12-31")  # fmt: skip
    assert got["day"] == datetime.date(2026, 2, 3)
    assert got["at"] == datetime.datetime(2026, 2, 3, 4, 5, 6, tzinfo=datetime.timezone.utc)
    assert got["since"] == datetime.date(2025, 12, 31)
    shown = laminar("show", DATED, "--datastore", str(tmp_path / "store"), cwd=ROOT).stdout
    assert "at='2026-02-03T04:05:06+00:00', day='2026-02-03'" in shown


def test_python_callers_pass_datetime_objects(tmp_path: Path) -> None:
    flow = load_flow(str(ROOT / DATED))
    done = flow(datastore=str(tmp_path / "store"))(
        day=datetime.date(2026, 3, 4), at=datetime.datetime(2026, 3, 4, 5, 6)
    )
    read = done.results["Read"].seen
    assert read["day"] == datetime.date(2026, 3, 4)
    assert read["at"] == datetime.datetime(2026, 3, 4, 5, 6)  # naive stays naive
    inputs = done.layer(Parameters)
    assert inputs.since == datetime.date(2026, 1, 1)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("since=2026-13-01", "Input 'since' must be a date such as 2026-11-25"),
        ("since=2026-11-25T01:00", "Input 'since' must be a date such as 2026-11-25"),
        ("since=25/11/2026", "Input 'since' must be a date such as 2026-11-25"),
        ("at=yesterday", "Input 'at' must be a date-time such as 2026-11-25T03:00:00+01:00"),
        ("at=20261125T0300", "Input 'at' must be a date-time"),  # read by 3.11 only: refused
    ],
)
def test_bad_dates_are_refused_naming_the_input(tmp_path: Path, given: str, message: str) -> None:
    done = laminar("run", DATED, "--datastore", str(tmp_path), "-p", given, cwd=ROOT, check=False)
    assert done.returncode != 0
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not list(tmp_path.glob("**/inputs*")), "nothing is committed for refused inputs"


def test_a_datetime_object_is_not_a_date() -> None:
    class Wrong(Flow):
        day: datetime.date = datetime.datetime(2026, 1, 1)

    @Wrong.register
    class Only(Layer):
        def __call__(self, parameters: Parameters) -> None:
            pass

    with pytest.raises(FlowDefinitionError, match="default of Input 'day' must be a date"):
        Wrong.ir()


def test_logical_date_on_another_type_says_which_types_take_it() -> None:
    class Counted(Flow):
        day: int = LogicalDate()  # type: ignore[assignment]

    @Counted.register
    class Only(Layer):
        def __call__(self, parameters: Parameters) -> None:
            pass

    with pytest.raises(FlowDefinitionError, match=r"datetime\.date or day: datetime\.datetime"):
        Counted.ir()


def test_trigger_forms_say_a_date_is_a_date() -> None:
    ir = load_flow(str(ROOT / DATED)).ir()
    dag = generate("airflow", ir, flow_ref="dated.py")
    assert "'since': Param('2026-01-01', type='string', format=\"date\")" in dag
    assert '\'day\': Param(None, type=["null", "string"], format="date")' in dag
    workflow = generate("github", ir, flow_ref="dated.py")
    assert 'timezone: "Europe/Paris"' in workflow  # GitHub reads the cron there
    assert 'description: "date input (YYYY-MM-DD)"' in workflow
    assert 'description: "date-time input (ISO 8601)"' in workflow
    assert json.dumps("2026-01-01") in workflow  # the default, as ISO text
