"""``laminar run FLOW --target T`` runs the job graph ``laminar compile`` renders, one process
per job and leg as the target would, and gives the same records as a plain ``laminar run``:
the lowering can never drift from the local semantics unnoticed."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import EXAMPLES, ROOT, laminar

from laminar.model.loader import load_flow
from laminar.runtime.results import open_results

TARGETS = ("argo", "airflow", "github")
#: One logical date for both runs (a scheduled example's partition is the run's date).
SAME_DAY = {"LAMINAR_LOGICAL_DATE": "2026-11-25"}
FLOWS = [
    *(str(p.relative_to(ROOT)) for p in sorted(EXAMPLES.glob("*.py"))),
    *(
        f"tests/flows/branching.py:{name}"
        for name in ("ConditionalFlow", "Branches", "Shapes", "Early")
    ),
    "tests/flows/guarded.py",
    *(f"tests/flows/following.py:{name}" for name in ("Following", "Nothing")),
]


def records(flow: str, store: Path, execution: str) -> dict[str, dict[str, object]]:
    return open_results(load_flow(str(ROOT / flow)), execution, str(store)).snapshot()


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, dict[str, object]]]:
    found = {}
    for flow in FLOWS:
        store = tmp_path_factory.mktemp("local")
        laminar("run", flow, "--datastore", str(store), "--execution", "ref", "-q", cwd=ROOT,
                env=SAME_DAY)  # fmt: skip
        found[flow] = records(flow, store, "ref")
    return found


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("flow", FLOWS)
def test_a_rehearsal_records_what_a_local_run_does(
    flow: str, target: str, local: dict[str, dict[str, dict[str, object]]], tmp_path: Path
) -> None:
    extra = ["--max-legs", "2"] if target != "airflow" else ["--max-map-length", "2"]
    done = laminar(
        "run", flow, "--target", target, *extra, "--datastore", str(tmp_path),
        "--execution", "rehearsed", "--workers", "2", cwd=ROOT, env=SAME_DAY,
    )  # fmt: skip
    assert "jobs ran" in done.stderr and "critical path" in done.stderr
    assert records(flow, tmp_path, "rehearsed") == local[flow]


def test_legs_are_batched_as_the_target_caps_them(tmp_path: Path) -> None:
    done = laminar(
        "run", "examples/grid.py", "--target", "github", "--max-legs", "2",
        "--datastore", str(tmp_path), cwd=ROOT,
    )  # fmt: skip
    assert "Process[2/2]" in done.stderr  # 6 tasks in 2 legs
    assert "Process[3/" not in done.stderr


def test_a_failing_job_fails_the_rehearsal_and_stops_what_depends_on_it(
    write_flow: object, tmp_path: Path
) -> None:
    flow = tmp_path / "boom.py"
    flow.write_text(
        "from laminar import Flow, Layer\n\n"
        "class Boom(Flow): ...\n\n"
        "@Boom.register\nclass A(Layer):\n    def __call__(self) -> None:\n"
        "        raise ValueError('no')\n\n"
        "@Boom.register\nclass B(Layer):\n    def __call__(self, a: A) -> None:\n"
        "        self.x = 1\n"
    )
    done = laminar("run", str(flow), "--target", "argo", cwd=tmp_path, check=False)
    assert done.returncode == 1
    assert "ValueError: no" in done.stderr
    assert "laminar: b: not run" in done.stderr
    assert "laminar: error: a failed" in done.stderr


def test_dry_run_prints_the_jobs_and_runs_nothing(tmp_path: Path) -> None:
    done = laminar(
        "run", "examples/branching.py", "--target", "github", "--dry-run",
        "--datastore", str(tmp_path / "store"), cwd=ROOT,
    )  # fmt: skip
    assert "Retraining on github:" in done.stdout
    assert "runs: laminar task examples/branching.py:Retraining --layer=Measure" in done.stdout
    assert "only if:" in done.stdout
    assert not (tmp_path / "store").exists()
    refused = laminar("run", "examples/grid.py", "--dry-run", cwd=ROOT, check=False)
    assert refused.returncode == 2 and "add --target T" in refused.stderr
