"""Timeouts, enforced where laminar runs the user's code: a layer's ``register(timeout=...)``
stops each attempt; a flow's ``class F(Flow, timeout=...)`` stops the local run. The
task is recorded as failed with a message naming the layer and the limit; ``Retry`` applies
to a layer's timeout; neither ``Catch`` nor the user's ``except Exception`` can swallow it.

A stopped task never reaches the line after its sleep: each flow writes a marker there, and
the tests assert it is absent (the sleeps are far longer than the limits)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import laminar

from laminar import Flow, Layer, Retry
from laminar.configurations.catch import Catch
from laminar.errors import ConfigurationError

SLOW = """
    import time
    from pathlib import Path
    from laminar import Flow, ForEach, Layer, Parameter, Retry
    from laminar.configurations.catch import Catch

    class Slow(Flow{flow_options}): ...

    @Slow.register
    class Start(Layer):
        def __call__(self) -> None:
            self.shard(items=[0, 1, 2, 3])

    @Slow.register({layer_options})
    class Hang(Layer):
        def __call__(self, start: Start) -> None:
            with open("attempts", "a") as log:
                log.write("attempt\\n")
            try:
                time.sleep(60)
            except Exception:  # a timeout is not an Exception: this cannot swallow it
                pass
            Path("finished").touch()
"""


def run(
    write_flow: Callable[[str], Path], tmp_path: Path, *extra: str, flow: str = "", layer: str = ""
) -> tuple[int, str]:
    path = write_flow(SLOW.format(flow_options=flow, layer_options=layer))
    store = str(tmp_path / "store")
    done = laminar("run", str(path), "--datastore", store, *extra, cwd=tmp_path, check=False)
    return done.returncode, done.stderr


def test_a_layer_past_its_timeout_is_stopped_and_named(
    write_flow: Callable[[str], Path], tmp_path: Path
) -> None:
    code, err = run(write_flow, tmp_path, layer="timeout=1")
    assert code == 1
    assert "Hang ran longer than its timeout of 1 s (register(timeout=1)) and was stopped" in err
    assert "time.sleep(60)" in err  # where the user's code was when it was stopped
    assert not (tmp_path / "finished").exists()


def test_retry_applies_to_a_timeout_and_catch_cannot_swallow_it(
    write_flow: Callable[[str], Path], tmp_path: Path
) -> None:
    options = "timeout=datetime.timedelta(seconds=1), retry=Retry(attempts=2, delay=0), "
    options += "catch=Catch(Exception)"
    path = write_flow(
        SLOW.format(flow_options="", layer_options=options).replace(
            "import time", "import datetime, time"
        )
    )
    done = laminar(
        "run", str(path), "--datastore", str(tmp_path / "store"), cwd=tmp_path, check=False
    )
    assert done.returncode == 1
    assert (tmp_path / "attempts").read_text() == "attempt\nattempt\n"
    assert "(attempt 1 of 2); retrying" in done.stderr
    assert "ran longer than its timeout of 1 s" in done.stderr
    assert not (tmp_path / "finished").exists()


def test_a_fan_out_task_past_its_timeout_is_stopped_in_a_worker(
    write_flow: Callable[[str], Path], tmp_path: Path
) -> None:
    layer = "timeout=1, foreach=ForEach(parameters=[Parameter(layer=Start, attribute='items')])"
    code, err = run(write_flow, tmp_path, "--workers", "2", layer=layer)
    assert code == 1
    assert "ran longer than its timeout of 1 s" in err
    assert not (tmp_path / "finished").exists()


def test_the_flows_timeout_stops_the_run_without_retrying(
    write_flow: Callable[[str], Path], tmp_path: Path
) -> None:
    code, err = run(
        write_flow, tmp_path, flow=", timeout=1", layer="retry=Retry(attempts=3, delay=0)"
    )
    assert code == 1
    assert "the flow's timeout of 1 s (class Slow(Flow, timeout=1)) ran out while Hang ran" in err
    assert (tmp_path / "attempts").read_text() == "attempt\n"  # the run's time is up: no retry
    assert not (tmp_path / "finished").exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "register(timeout=0): it takes a positive number of seconds"),
        (-5, "register(timeout=-5): it takes a positive number of seconds"),
        (float("nan"), "register(timeout=nan)"),
        ("600", "register(timeout='600')"),
        (True, "register(timeout=True)"),
        (10**7, "more than a week"),
    ],
)
def test_a_bad_timeout_names_the_setting_and_the_fix(value: object, message: str) -> None:
    class F(Flow): ...

    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        F.register(timeout=value)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="Flow\\(timeout="):

        class G(Flow, timeout=value): ...  # type: ignore[arg-type]


def test_a_timeout_is_seconds_or_a_timedelta() -> None:
    class F(Flow, timeout=datetime.timedelta(hours=1)): ...

    @F.register(timeout=datetime.timedelta(minutes=10), retry=Retry(), catch=Catch(KeyError))
    class A(Layer):
        def __call__(self) -> None: ...

    ir = F.ir()
    assert (ir.settings.timeout, ir.spec("A").settings.timeout) == (3600.0, 600.0)


CAPPED = """
    import os, time
    from pathlib import Path
    from laminar import Flow, ForEach, Layer, Parameter

    class Capped(Flow): ...

    @Capped.register
    class Start(Layer):
        def __call__(self) -> None:
            self.shard(items=list(range(8)))

    @Capped.register(
        foreach=ForEach(parameters=[Parameter(layer=Start, attribute="items")], concurrency=2)
    )
    class Work(Layer):
        def __call__(self, start: Start) -> None:
            mine = Path("running") / str(self.index)
            mine.touch()
            time.sleep(0.3)  # long enough for any third task to start alongside
            self.alongside = len(os.listdir("running"))
            mine.unlink()
"""


def test_a_capped_fan_out_never_runs_more_tasks_at_once(
    write_flow: Callable[[str], Path], tmp_path: Path
) -> None:
    """ForEach(concurrency=2) with --workers 4: every task saw at most one other running."""
    (tmp_path / "running").mkdir()
    path = write_flow(CAPPED)
    store = str(tmp_path / "store")
    laminar("run", str(path), "--datastore", store, "--workers", "4", cwd=tmp_path)
    shown = laminar("show", str(path), "Work.alongside", "--datastore", store, cwd=tmp_path)
    seen = [int(line.split()[-1]) for line in shown.stdout.splitlines()]  # "[3] 2" per task
    assert len(seen) == 8 and max(seen) <= 2
    assert max(seen) == 2  # the cap, not one at a time: two workers did run side by side
