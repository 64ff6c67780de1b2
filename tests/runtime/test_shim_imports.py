"""What a deployed task imports: the shim commands stay free of compile-time libraries.

Every task of a compiled workflow starts ``laminar task`` or ``laminar plan``, so whatever they
import is paid once per task (issue 15). These tests record the modules a real shim process
has loaded when it exits; they check names, never time (``bench/deployed_overhead.py`` times).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES

#: Runs ``python -m laminar ARGS...`` and, at exit, writes the names of every loaded module.
HOOK = """
import atexit, json, runpy, sys
out, args = sys.argv[1], sys.argv[2:]
def record():
    with open(out, "w") as handle:
        json.dump(sorted(sys.modules), handle)
atexit.register(record)
sys.argv = ["laminar", *args]
runpy.run_module("laminar", run_name="__main__", alter_sys=True)
"""

#: Compile-time libraries, and fsspec (only a remote datastore needs it).
FORBIDDEN = ("networkx", "jinja2", "yaml", "fsspec", "laminar.backends", "laminar.templates")


def shim_modules(tmp_path: Path, *args: str, datastore: str | None = None) -> set[str]:
    """The modules loaded by one ``laminar ARGS`` process (which must succeed)."""
    out = tmp_path / f"modules-{len(list(tmp_path.glob('modules-*')))}.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAMINAR_")}
    env["LAMINAR_EXECUTION"] = "run-1"
    if datastore is not None:
        env["LAMINAR_DATASTORE"] = datastore
    done = subprocess.run(
        [sys.executable, "-c", HOOK, str(out), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(out.read_text()))


def loaded(modules: set[str], package: str) -> list[str]:
    return sorted(m for m in modules if m == package or m.startswith(package + "."))


def assert_lean(modules: set[str]) -> None:
    assert "laminar.runtime.shim" in modules  # the hook saw a real shim run
    found = {name: loaded(modules, name) for name in FORBIDDEN}
    assert {name: mods for name, mods in found.items() if mods} == {}


@pytest.mark.parametrize("datastore", [None, "file://{tmp}/store", "{tmp}/store"])
def test_task_and_plan_import_no_compile_time_library(
    tmp_path: Path, datastore: str | None
) -> None:
    flow = str(EXAMPLES / "grid.py")
    store = None if datastore is None else datastore.format(tmp=tmp_path)
    assert_lean(shim_modules(tmp_path, "task", flow, "--layer=Shard", datastore=store))
    plan = ("plan", flow, "--layer", "Process", "--format", "list")
    assert_lean(shim_modules(tmp_path, *plan, datastore=store))
    # A leg of the ForEach layer reads its shard elements from the store.
    leg = ("task", flow, "--layer", "Process", "--leg", "3")
    assert_lean(shim_modules(tmp_path, *leg, datastore=store))


def test_a_trivial_task_needs_neither_cloudpickle_nor_argparse(tmp_path: Path) -> None:
    flow = str(EXAMPLES / "diamond.py")
    modules = shim_modules(tmp_path, "task", flow, "--layer=A")
    assert_lean(modules)
    assert "cloudpickle" not in modules  # A sets self.value = 10, a plain value
    assert "argparse" not in modules  # a generated command line is read directly
    # Only what a task uses: no cached layer (the cache, hashlib), no signing key (hmac), no
    # time limit (signal), no lease (socket: deployed tasks take none), nothing to delete.
    needless = ("laminar.runtime.caching", "hashlib", "hmac", "signal", "socket", "shutil")
    assert sorted(name for name in needless if name in modules) == []


def test_a_cached_layer_does_import_the_cache(tmp_path: Path) -> None:
    """The check above can fail: a task of a cached layer loads the cache and hashlib."""
    flow = tmp_path / "cached.py"
    flow.write_text(
        "from laminar import Flow, Layer\n"
        "class Cached(Flow):\n    pass\n"
        "@Cached.register(cache=True)\n"
        "class A(Layer):\n"
        "    def __call__(self) -> None:\n        self.value = 1\n"
    )
    modules = shim_modules(tmp_path, "task", str(flow), "--layer=A")
    assert {"laminar.runtime.caching", "hashlib"} <= modules


def test_the_hook_sees_what_compiling_imports(tmp_path: Path) -> None:
    """The check above can fail: the same hook around ``laminar compile`` finds jinja2."""
    flow = str(EXAMPLES / "grid.py")
    output = tmp_path / "dag.py"
    modules = shim_modules(tmp_path, "compile", flow, "--target", "airflow", "-o", str(output))
    assert loaded(modules, "jinja2")
    assert loaded(modules, "laminar.backends")
