"""Caching across executions (issue 23): a task of a cached layer whose code, settings,
elements, upstream values and inputs are identical to an earlier committed task is served
from it; anything else runs. Each test counts runs with a side-effect file per task."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import laminar

from laminar import Cache
from laminar.configurations.settings import LayerSettings
from laminar.errors import ConfigurationError

FLOW = """
import os
from pathlib import Path
from laminar import Cache, Flow, ForEach, Layer, Parameter, Parameters


def count(name):
    with open(Path(os.environ["TEST_COUNTS"]) / name, "a") as f:
        f.write("ran\\n")


class Cached(Flow):
    scale: int = 1
    label: str = "x"


@Cached.register
class Start(Layer):
    def __call__(self) -> None:
        self.shard(files=os.environ.get("ITEMS", "a,b,c").split(","))


@Cached.register(
    cache=True, foreach=ForEach(parameters=[Parameter(layer=Start, attribute="files")])
)
class Each(Layer):
    def __call__(self, start: Start, parameters: Parameters) -> None:
        count(f"Each-{start.files}")
        self.out = start.files * parameters.scale * 40000  # > 64 KiB when scale > 1: a file


@Cached.register(cache=Cache(version="1"))
class Join(Layer):
    def __call__(self, each: Each) -> None:
        count("Join")
        self.total = "".join(x[:1] for x in each.out)


@Cached.register(cache=True)
class Label(Layer):
    def __call__(self, parameters: Parameters) -> None:
        count("Label")
        self.label = parameters.label
"""


@pytest.fixture
def flow(tmp_path: Path) -> Path:
    (tmp_path / "counts").mkdir()
    path = tmp_path / "flow.py"
    path.write_text(FLOW)
    return path


def run(flow: Path, execution: str, *args: str, **env: str) -> str:
    env = {"TEST_COUNTS": str(flow.parent / "counts"), **env}
    result = laminar("run", "flow.py", "--execution", execution, *args, cwd=flow.parent, env=env)
    return result.stderr


def ran(flow: Path) -> dict[str, int]:
    """How often each task ran since the last call (the counts are then reset)."""
    counts = {}
    for path in sorted((flow.parent / "counts").iterdir()):
        counts[path.name] = len(path.read_text().splitlines())
        path.unlink()
    return counts


def results(flow: Path, execution: str) -> dict[str, object]:
    """Every layer's values in ``execution``, read back as a user reads them."""
    script = (
        "import json, sys; sys.path.insert(0, '.'); from flow import Cached; "
        f"r = Cached.results({execution!r}, datastore='.laminar'); "
        "print(json.dumps({'total': r['Join'].total, 'label': r['Label'].label, "
        "'out': list(r['Each'].out)}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=flow.parent, capture_output=True, text=True, check=True
    )
    return dict(json.loads(out.stdout))


def test_second_execution_runs_no_cached_layer_and_gives_the_same_results(flow: Path) -> None:
    run(flow, "one")
    assert ran(flow) == {"Each-a": 1, "Each-b": 1, "Each-c": 1, "Join": 1, "Label": 1}
    log = run(flow, "two")
    assert ran(flow) == {}
    assert "Join: served from the cache (execution one)" in log
    assert "Each: 3 tasks, 3 served from the cache" in log
    assert results(flow, "two") == results(flow, "one")


def test_workers_say_how_many_tasks_they_served(flow: Path) -> None:
    run(flow, "one")
    ran(flow)
    log = run(flow, "two", "--workers", "2", ITEMS="a,B,c")  # tasks in forked workers
    assert ran(flow) == {"Each-B": 1, "Join": 1}
    assert "Each: 3 tasks, 2 served from the cache" in log


def test_one_changed_element_reruns_one_task(flow: Path) -> None:
    run(flow, "one")
    ran(flow)
    log = run(flow, "two", ITEMS="a,B,c")
    assert ran(flow) == {"Each-B": 1, "Join": 1}  # Join reads the changed value
    assert "Each: 3 tasks, 2 served from the cache" in log


def test_a_deployed_task_says_where_its_values_came_from(flow: Path) -> None:
    run(flow, "one")
    ran(flow)
    env = {"TEST_COUNTS": str(flow.parent / "counts")}
    shim = ("--execution", "two", "--datastore", ".laminar")
    for layer in ("Start", "Label"):
        laminar("task", "flow.py", f"--layer={layer}", *shim, cwd=flow.parent, env=env)
    laminar("plan", "flow.py", "--layer=Each", *shim, cwd=flow.parent, env=env)
    for leg in ("0", "1", "2"):
        task = ("task", "flow.py", "--layer=Each", "--leg", leg)
        logged = laminar(*task, *shim, cwd=flow.parent, env=env).stderr
        assert f"Each[{leg}] served from the cache: values of execution one" in logged
    joined = laminar("task", "flow.py", "--layer=Join", *shim, cwd=flow.parent, env=env)
    assert "Join served from the cache: values of execution one" in joined.stderr
    assert ran(flow) == {}


def test_a_changed_input_reruns_only_the_layers_reading_it(flow: Path) -> None:
    run(flow, "one")
    ran(flow)
    run(flow, "two", "-p", "label=y")
    # Each takes Parameters (all inputs count), but its values did not change: Join is served
    assert ran(flow) == {"Each-a": 1, "Each-b": 1, "Each-c": 1, "Label": 1}
    run(flow, "three", "-p", "scale=2")  # values above 64 KiB: files, served by reference
    # Label takes Parameters too, and a key holds every input: it runs again, conservatively.
    assert ran(flow) == {"Each-a": 1, "Each-b": 1, "Each-c": 1, "Join": 1, "Label": 1}
    run(flow, "four", "-p", "scale=2")
    assert ran(flow) == {}
    assert results(flow, "four") == results(flow, "three")


def test_changed_code_reruns_the_layer(flow: Path) -> None:
    run(flow, "one")
    ran(flow)
    flow.write_text(FLOW.replace('"".join(x[:1]', '"-".join(x[:1]'))
    run(flow, "two")
    assert ran(flow) == {"Join": 1}
    assert results(flow, "two")["total"] == "a-b-c"


def test_no_cache_runs_everything(flow: Path) -> None:
    everything = {"Each-a": 1, "Each-b": 1, "Each-c": 1, "Join": 1, "Label": 1}
    run(flow, "one")
    ran(flow)
    run(flow, "two", LAMINAR_NO_CACHE="1")
    assert ran(flow) == everything
    run(flow, "three", "--no-cache", "--workers", "2")
    assert ran(flow) == everything
    run(flow, "four", LAMINAR_NO_CACHE="0")
    assert ran(flow) == {}
    # What a run without the cache ran is recorded: the newest entries are execution three's.
    shown = laminar("show", "flow.py", "--execution", "four", cwd=flow.parent).stdout
    assert "cached from execution three" in shown and "execution one" not in shown


def test_show_says_where_cached_tasks_came_from(flow: Path) -> None:
    run(flow, "one")
    run(flow, "two", ITEMS="a,B,c")
    shown = laminar("show", "flow.py", "--execution", "two", cwd=flow.parent).stdout
    assert "Each [3 tasks; 2 of 3 tasks cached from execution one]" in shown
    assert "Join\n" in shown  # it ran: Each's values changed
    assert "Label [cached from execution one]" in shown


def test_a_damaged_cache_entry_is_a_miss(flow: Path) -> None:
    run(flow, "one")
    ran(flow)
    for entry in (flow.parent / ".laminar" / "Cached" / "@cache" / "Join").iterdir():
        entry.write_bytes(entry.read_bytes()[:-3] + b"xx}")
    run(flow, "two")
    assert ran(flow) == {"Join": 1}


def test_missing_original_values_are_a_miss(flow: Path) -> None:
    run(flow, "one", "-p", "scale=2")
    ran(flow)
    for value in (flow.parent / ".laminar" / "Cached" / "one" / "Each" / "data").rglob("*.value"):
        value.unlink()
    run(flow, "two", "-p", "scale=2")
    assert ran(flow) == {"Each-a": 1, "Each-b": 1, "Each-c": 1}


def test_signed_store_signs_entries_and_refuses_unsigned_ones(flow: Path) -> None:
    run(flow, "one", LAMINAR_SIGNING_KEY="k1")
    ran(flow)
    run(flow, "two", LAMINAR_SIGNING_KEY="k1")
    assert ran(flow) == {}
    # Another key cannot verify the entries (nor the values): everything runs.
    run(flow, "three", LAMINAR_SIGNING_KEY="k2")
    assert ran(flow) == {"Each-a": 1, "Each-b": 1, "Each-c": 1, "Join": 1, "Label": 1}


def test_cache_settings_are_checked() -> None:
    assert LayerSettings(cache=True).cache == Cache()
    assert LayerSettings(cache=False).cache is None
    with pytest.raises(ConfigurationError, match="cache=True or Cache"):
        LayerSettings(cache="yes")
    with pytest.raises(ConfigurationError, match="max_age"):
        Cache(max_age=0)
    with pytest.raises(ConfigurationError, match="version"):
        Cache(version=2)  # type: ignore[arg-type]


def test_cache_list_why_and_clear(flow: Path) -> None:
    run(flow, "one")
    run(flow, "two", ITEMS="a,B,c")
    ran(flow)
    listed = laminar("cache", "flow.py", "list", "Each", cwd=flow.parent).stdout
    assert listed.startswith("Each: 4 cache entries\n")
    assert listed.count("execution one task") == 3 and "execution two task 1," in listed
    why = laminar("cache", "flow.py", "why", "Each[2]", "--execution", "two", cwd=flow.parent)
    lines = why.stdout.splitlines()
    assert lines[0].startswith("Each[2] in execution two: key ")
    assert [line.split(":")[0].strip() for line in lines[1:-1]] == [
        "code", "version", "settings", "task", "inputs", "Start", "Start.files[2]"
    ]  # fmt: skip
    assert lines[-1] == "served from the cache: values of execution one"
    cleared = laminar("cache", "flow.py", "clear", cwd=flow.parent).stdout
    assert "Each: 4 cache entries cleared" in cleared and "Join: 2 cache entries cleared" in cleared
    run(flow, "three")
    assert ran(flow) == {"Each-a": 1, "Each-b": 1, "Each-c": 1, "Join": 1, "Label": 1}
    wrong = laminar("cache", "flow.py", "why", "Start", cwd=flow.parent, check=False)
    assert wrong.returncode == 2 and "has no cached layer Start" in wrong.stderr


def test_entries_are_written_one_file_per_commit_group(flow: Path) -> None:
    run(flow, "one")
    cache = flow.parent / ".laminar" / "Cached" / "@cache"
    # Each's three tasks run in one leg, committed in one group: one file of three entries.
    assert [len(list((cache / layer).iterdir())) for layer in ("Each", "Join")] == [1, 1]
    (damaged,) = (cache / "Each").iterdir()
    damaged.write_bytes(damaged.read_bytes()[:-3] + b"xx}")
    listed = laminar("cache", "flow.py", "list", "Each", cwd=flow.parent).stdout
    assert listed.startswith("Each: 0 cache entries\n  1 damaged or unsigned entry files")
    ran(flow)
    run(flow, "two")
    assert ran(flow) == {"Each-a": 1, "Each-b": 1, "Each-c": 1}  # a miss; Join's values held
    run(flow, "three")
    assert ran(flow) == {}  # served from two's entries


def test_an_entry_not_served_gives_way_to_the_next_runs(flow: Path) -> None:
    run(flow, "one", "-p", "scale=2")
    ran(flow)
    for value in (flow.parent / ".laminar" / "Cached" / "one" / "Each" / "data").rglob("*.value"):
        value.unlink()
    run(flow, "two", "-p", "scale=2")  # one's entries point at missing values: a miss
    assert ran(flow) == {"Each-a": 1, "Each-b": 1, "Each-c": 1}
    run(flow, "three", "-p", "scale=2")  # two's entries, the newest, are used
    assert ran(flow) == {}


def test_a_rerun_task_is_not_served_under_its_old_key(flow: Path) -> None:
    run(flow, "one")
    run(flow, "one", "--rerun", "Start", ITEMS="a,B,c")  # Each[1] of "one" now holds B's value
    ran(flow)
    run(flow, "two")  # b again: its old entry points at a task that holds B's value now
    assert ran(flow) == {"Each-b": 1, "Join": 1}
    assert results(flow, "two")["out"] == [x * 40000 for x in "abc"]
