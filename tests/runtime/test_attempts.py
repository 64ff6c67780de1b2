"""``self.attempt`` is the orchestrator's try number (issue 27): the shim reads it from
``LAMINAR_ATTEMPT`` (``laminar.contract.ENV_ATTEMPT``), and its own attempts (``--retry``)
count on from there."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from laminar.cli.inprocess import call
from laminar.contract import ENV_ATTEMPT

FLOW = """
from laminar import Flow, Layer
from laminar.configurations.layers import Retry
from laminar.settings import current


class Attempts(Flow): ...


@Attempts.register(retry=Retry(attempts=2, delay=0))
class Flaky(Layer):
    def __call__(self) -> None:
        if self.attempt == 3:  # "fail only on the orchestrator's third try"
            raise RuntimeError("third try fails")
        self.seen = (self.attempt, current.layer.attempt, current.execution.retry)
"""


@pytest.fixture
def flow(write_flow: Callable[[str, str], Path]) -> Path:
    return write_flow(FLOW, "attempts.py")


def _task(flow: Path, store: Path, attempt: str | None, *extra: str) -> int:
    env = {"LAMINAR_EXECUTION": "run-1", "LAMINAR_DATASTORE": str(store)}
    if attempt is not None:
        env[ENV_ATTEMPT] = attempt
    return call(["task", str(flow), "--layer=Flaky", *extra], env=env)


def _seen(flow: Path, store: Path) -> object:
    from laminar.model.loader import load_flow

    return load_flow(str(flow)).results("run-1", str(store))["Flaky"].seen


def test_the_orchestrators_try_number_is_self_attempt(flow: Path, tmp_path: Path) -> None:
    assert _task(flow, tmp_path / "a", "2") == 0
    assert _seen(flow, tmp_path / "a") == (2, 2, True)


def test_without_the_variable_it_is_the_first_try(flow: Path, tmp_path: Path) -> None:
    assert _task(flow, tmp_path / "b", None) == 0
    assert _seen(flow, tmp_path / "b") == (1, 1, False)


def test_a_try_the_orchestrator_repeats_sees_its_number(
    flow: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Airflow and Argo retry by starting the task again: the third try fails, the fourth
    (a new process, LAMINAR_ATTEMPT=4) succeeds."""
    assert _task(flow, tmp_path / "c", "3") == 1
    assert "Flaky failed: RuntimeError: third try fails" in capsys.readouterr().err
    assert _task(flow, tmp_path / "c", "4") == 0
    assert _seen(flow, tmp_path / "c") == (4, 4, True)


def test_the_shims_own_attempts_count_on_from_the_try_number(
    flow: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GitHub: ``run_attempt`` plus the shim's own attempts (``--retry``)."""
    assert _task(flow, tmp_path / "d", "3", "--retry") == 0
    assert "(attempt 1 of 2); retrying" in capsys.readouterr().err
    assert _seen(flow, tmp_path / "d") == (4, 4, True)


@pytest.mark.parametrize("value", ["0", "x", "-1", "1.5", " 2", "٣"])
def test_a_bad_try_number_is_a_one_line_error(
    flow: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    assert _task(flow, tmp_path / "e", value) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"laminar: error: {ENV_ATTEMPT}=")
    assert "must be a whole number of at least 1" in err and "Traceback" not in err
