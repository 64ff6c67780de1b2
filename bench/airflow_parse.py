"""How long Airflow takes to parse a generated DAG file, for flows of 10 and 200 layers.

Airflow re-parses every DAG file continually (``dagbag_import_timeout`` is 30 s, and a slow
file delays every other one), so a generated DAG must parse in milliseconds. This compiles a
synthetic chain flow (every third layer a ForEach) of each size, for both operators, then, in
the Airflow venv, times (a) executing the file as a module once Airflow itself is imported,
which is the part a DAG file adds, and (b) ``DagBag`` collecting the file (import plus DAG
validation and bagging), each the median of several runs.

Usage: LAMINAR_AIRFLOW_PYTHON=.ci/cache/airflow-venv/bin/python python bench/airflow_parse.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from laminar.backends import generate
from laminar.model.loader import load_flow

SIZES = (10, 200)
REPEAT = 7

#: Runs in the Airflow venv: times each DAG file given on the command line.
MEASURE = textwrap.dedent(
    """
    import json, logging, os, statistics, sys, time, importlib.util
    logging.disable(logging.CRITICAL)
    start = time.perf_counter()
    import airflow.sdk  # what any DAG file pays first; not counted below
    from airflow.dag_processing.dagbag import DagBag
    first = time.perf_counter() - start
    results = {"airflow_import_s": first}
    for path in sys.argv[2:]:
        imports, bags = [], []
        for i in range(int(sys.argv[1])):
            spec = importlib.util.spec_from_file_location(f"dag_{i}", path)
            module = importlib.util.module_from_spec(spec)
            t = time.perf_counter()
            spec.loader.exec_module(module)
            imports.append(time.perf_counter() - t)
            t = time.perf_counter()
            bag = DagBag(dag_folder=path)
            bags.append(time.perf_counter() - t)
            assert not bag.import_errors, bag.import_errors
        results[path] = {
            "exec_ms": statistics.median(imports) * 1000,
            "dagbag_ms": statistics.median(bags) * 1000,
            "tasks": len(next(iter(bag.dags.values())).tasks),
        }
    print(json.dumps(results))
    """
)


def flow_source(layers: int) -> str:
    lines = [
        "from laminar import Flow, ForEach, Layer, Parameter",
        f"class Chain{layers}(Flow): ...",
        f"@Chain{layers}.register",
        "class L0(Layer):",
        "    def __call__(self) -> None:",
        "        self.shard(items=[1, 2, 3])",
    ]
    for i in range(1, layers):
        if i % 3 == 0:
            lines.append(
                f"@Chain{layers}.register(foreach=ForEach(parameters="
                "[Parameter(layer=L0, attribute='items')]))"
            )
        else:
            lines.append(f"@Chain{layers}.register")
        lines += [
            f"class L{i}(Layer):",
            f"    def __call__(self, up: L{i - 1}, first: L0) -> None:",
            "        self.value = 1",
        ]
    return "\n".join(lines) + "\n"


def main() -> int:
    python = os.environ.get("LAMINAR_AIRFLOW_PYTHON")
    if not python:
        print("set LAMINAR_AIRFLOW_PYTHON to the Airflow venv's python (.ci/setup-airflow.sh)")
        return 1
    python = os.path.abspath(python)  # run from a temporary folder: relative paths break
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        files: dict[str, tuple[int, str]] = {}
        for layers in SIZES:
            source = work / f"chain{layers}.py"
            source.write_text(flow_source(layers))
            ir = load_flow(str(source)).ir()
            for operator in ("python", "kubernetes"):
                text = generate(
                    "airflow",
                    ir,
                    flow_ref=f"flows/chain{layers}.py:Chain{layers}",
                    datastore="s3://bucket/runs",
                    image="registry.example/flows:1",
                    operator=operator,
                )
                dag = work / f"dag_{layers}_{operator}.py"
                dag.write_text(text)
                files[str(dag)] = (layers, operator)
        env = {**os.environ, "AIRFLOW_HOME": str(work / "home"), "PYTHONDONTWRITEBYTECODE": "1"}
        env["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
        done = subprocess.run(
            [python, "-c", MEASURE, str(REPEAT), *files],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            print(done.stderr[-3000:], file=sys.stderr)
            return 1
        results = json.loads(done.stdout.splitlines()[-1])
    print(f"Airflow import (paid once per parsing process): {results['airflow_import_s']:.2f} s")
    print(f"{'layers':>6} {'operator':>10} {'tasks':>5} {'exec ms':>8} {'DagBag ms':>9}")
    for path, (layers, operator) in files.items():
        row = results[path]
        print(
            f"{layers:>6} {operator:>10} {row['tasks']:>5} "
            f"{row['exec_ms']:>8.1f} {row['dagbag_ms']:>9.1f}"
        )
    print(f"(median of {REPEAT}; exec = running the file once Airflow is imported)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
