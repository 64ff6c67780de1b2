"""The shim run inside the caller's process: same results and statuses, and nothing left behind."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import laminar

from laminar.cli.inprocess import call
from laminar.model.loader import FLOW_MODULE_PREFIX, load_flow
from laminar.runtime.results import open_results

FLOW = """
import os
import helpers
from laminar import Flow, Layer
from laminar.configurations.layers import Container, ForEach, Parameter


class Mixed(Flow): ...


@Mixed.register(container=Container(image="x", env={"MIXED_MODE": "fast"}))
class Source(Layer):
    def __call__(self) -> None:
        self.shard(items=range(5))
        self.mode = os.environ["MIXED_MODE"]
        self.helper = helpers.NAME


@Mixed.register(foreach=ForEach(parameters=[Parameter(layer=Source, attribute="items")]))
class Square(Layer):
    def __call__(self, source: Source) -> None:
        self.square = source.items**2


@Mixed.register
class Join(Layer):
    def __call__(self, square: Square, source: Source) -> None:
        self.total = sum(square.square)
        self.where = (source.mode, source.helper)
"""


@pytest.fixture(autouse=True)
def unload_helpers() -> Iterator[None]:
    """These tests read results with ``load_flow``, which leaves the flow's folder on
    ``sys.path`` and its ``helpers`` module loaded, as it does in any process; a ``call`` in
    a later test would then find that ``helpers`` (a module a process had imported before a
    call is never replaced), so each test unloads them."""
    path = list(sys.path)
    yield
    sys.path[:] = path
    sys.modules.pop("helpers", None)


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "helpers.py").write_text('NAME = "mixed helpers"\n')
    (flows / "mixed.py").write_text(FLOW)
    return flows / "mixed.py"


def state() -> tuple[object, ...]:
    flow_modules = sorted(m for m in sys.modules if m.startswith(FLOW_MODULE_PREFIX))
    return (os.getcwd(), dict(os.environ), list(sys.path), flow_modules, "helpers" in sys.modules)


def run_in_process(flow: Path, store: Path, run_id: str, cwd: Path) -> None:
    """What the Airflow DAG does for Source -> Square (planned, 2 legs) -> Join."""
    reference = os.path.relpath(flow, cwd)
    env = {"LAMINAR_EXECUTION": run_id, "LAMINAR_DATASTORE": str(store)}
    task = ["task", reference]
    assert call([*task, "--layer=Source"], env={**env, "MIXED_MODE": "fast"}, cwd=cwd) == 0
    legs = cwd / "legs.json"
    plan = ["plan", reference, "--layer=Square", "--format=list", "--max-legs=2"]
    assert call([*plan, "--output", str(legs)], env=env, cwd=cwd) == 0
    for leg in json.loads(legs.read_text()):
        assert call([*task, "--layer=Square"], env={**env, "LAMINAR_LEG": str(leg)}, cwd=cwd) == 0
    assert call([*task, "--layer=Join"], env=env, cwd=cwd) == 0


def test_results_equal_a_local_run_and_nothing_is_left_behind(mixed: Path, tmp_path: Path) -> None:
    before = state()
    run_in_process(mixed, tmp_path / "store", "in-process", cwd=tmp_path)
    assert state() == before

    reference = tmp_path / "reference"
    laminar("run", str(mixed), "--datastore", str(reference), "--execution", "ref", "-q",
            cwd=tmp_path, env={"MIXED_MODE": "fast"})  # fmt: skip
    flow = load_flow(str(mixed))
    expected = open_results(flow, "ref", str(reference)).snapshot()
    got = open_results(flow, "in-process", str(tmp_path / "store")).snapshot()
    assert got == expected
    assert got["Join"] == {"total": 30, "where": ("fast", "mixed helpers")}


def test_each_call_loads_the_flow_afresh(mixed: Path, tmp_path: Path) -> None:
    """A worker process runs many tasks: an edited flow file or a second flow with its own
    helpers.py is seen as a new process would see it."""
    run_in_process(mixed, tmp_path / "store", "first", cwd=tmp_path)
    (mixed.parent / "helpers.py").write_text('NAME = "edited helpers"\n')
    mixed.write_text(FLOW.replace("sum(square.square)", "-sum(square.square)"))
    other = tmp_path / "other"
    other.mkdir()
    (other / "helpers.py").write_text('NAME = "other helpers"\n')
    (other / "mixed.py").write_text(FLOW)
    run_in_process(other / "mixed.py", tmp_path / "store2", "second", cwd=tmp_path)
    run_in_process(mixed, tmp_path / "store", "third", cwd=tmp_path)

    flow = load_flow(str(mixed))
    join = open_results(flow, "second", str(tmp_path / "store2"))["Join"]
    assert (join.total, join.where) == (30, ("fast", "other helpers"))
    join = open_results(flow, "third", str(tmp_path / "store"))["Join"]
    assert (join.total, join.where) == (-30, ("fast", "edited helpers"))


def test_a_failing_layer_returns_1_with_its_traceback(
    write_flow: Callable[[str, str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flow = write_flow(
        """
        from laminar import Flow, Layer

        class Failing(Flow): ...

        @Failing.register
        class Boom(Layer):
            def __call__(self) -> None:
                raise ValueError("no good")
        """,
        "failing.py",
    )
    before = state()
    env = {"LAMINAR_EXECUTION": "x", "LAMINAR_DATASTORE": str(tmp_path / "store")}
    assert call(["task", str(flow), "--layer=Boom"], env=env) == 1
    assert state() == before
    err = capsys.readouterr().err
    assert 'raise ValueError("no good")' in err
    assert "laminar: error: Boom failed: ValueError: no good" in err


def test_usage_and_flow_errors_return_2(mixed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = state()
    assert call(["task", str(mixed)]) == 2  # argparse: --layer is required
    assert "the following arguments are required: --layer" in capsys.readouterr().err
    assert call(["task", str(mixed), "--layer=Nope"], env={"LAMINAR_EXECUTION": "x"}) == 2
    assert "has no layer named 'Nope'" in capsys.readouterr().err
    assert state() == before
