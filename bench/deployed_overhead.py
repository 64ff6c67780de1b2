"""Deployed overhead (issue 15): what a task of a compiled workflow costs beyond its work.

(a) **Shim start-up.** Every generated task runs ``laminar task`` or ``laminar plan``. Each is
timed against its floor, ``python -c "import <the flow file>"`` (the interpreter plus the
flow's own imports, laminar's ``Flow`` and ``Layer`` among them): the median wall time of
``REPEAT`` fresh processes each, interleaved so that the machine's load hits both alike,
after one warm-up round. Children run with bytecode caching on (as an installed package
has it), even where the caller sets ``PYTHONDONTWRITEBYTECODE``. Goal: at most 1.5x.

(b) **Airflow.** A flow Source -> ForEach over N -> Join, compiled with ``laminar compile
--target airflow`` (PythonOperator), against the same work as a native TaskFlow DAG
(``@task`` and ``.expand(x=...)``), N = 50 and 500, each timed once with ``dag.test()``.
Each DAG runs in its own Airflow process with a fresh copy of the database, after an
untimed run of the same kind of DAG at N = 3: Airflow's first run in a process pays
one-time costs, and a database holding earlier runs slows later ones down. A third DAG is
the compiled one with its ``shim()`` calling ``laminar.cli.inprocess.call`` instead of
starting a subprocess: what wiring that into the generated DAG would give (the generator
itself is unchanged). The compiled DAGs' Join totals are read back from the datastore and
checked. Goal: compiled within 1.15x of native.
Airflow comes from ``.ci/setup-airflow.sh`` (run here when ``LAMINAR_AIRFLOW_PYTHON`` is not
set); its tasks import this checkout's laminar (``PYTHONPATH``).

Usage:
    .venv/bin/python bench/deployed_overhead.py                  # (a) and (b), N = 50 and 500
    .venv/bin/python bench/deployed_overhead.py --sizes 50       # a quicker (b)
    .venv/bin/python bench/deployed_overhead.py --no-airflow     # (a) only, ~1 minute
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import PYTHON, ROOT, Result, check, laminar, main, workdir, write

REPEAT = 21
SIZES = (50, 500)
WARM_UP = 3
SHIM_GOAL = 1.5
AIRFLOW_GOAL = 1.15
EXAMPLES = ROOT / "examples"


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAMINAR_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return {**env, **extra}


def wall(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    return timed(argv, cwd, env)[0]


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one process. CPU time (user + system, the kernel's
    account of the children reaped meanwhile: just this one) is less sensitive to other jobs
    on a shared machine than wall time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


# -- (a) shim start-up -------------------------------------------------------------------------


def floor_argv(flow: Path) -> list[str]:
    code = f"import sys; sys.path.insert(0, {str(flow.parent)!r}); import {flow.stem}"
    return [PYTHON, "-c", code]


#: (figure, flow file, its argv for an execution id, what to do first for that execution)
ShimCase = tuple[str, Path, Callable[[str], list[str]], Callable[[str], None]]


def shim_cases(store: Path) -> list[ShimCase]:
    """A trivial layer of two examples (an int; a shard of ints), and planning a ForEach."""
    grid, diamond = EXAMPLES / "grid.py", EXAMPLES / "diamond.py"
    shim = [PYTHON, "-m", "laminar"]

    def nothing(execution: str) -> None:
        pass

    def shard_done(execution: str) -> None:
        argv = [*shim, "task", str(grid), "--layer=Shard", f"--execution={execution}"]
        wall(argv, store, child_env(LAMINAR_DATASTORE=str(store)))

    return [
        (
            "laminar task examples/diamond.py --layer A",
            diamond,
            lambda e: [*shim, "task", str(diamond), "--layer=A", f"--execution={e}"],
            nothing,
        ),
        (
            "laminar task examples/grid.py --layer Shard",
            grid,
            lambda e: [*shim, "task", str(grid), "--layer=Shard", f"--execution={e}"],
            nothing,
        ),
        (
            "laminar plan examples/grid.py --layer Process",
            grid,
            lambda e: [*shim, "plan", str(grid), "--layer=Process", f"--execution={e}"],
            shard_done,
        ),
    ]


def shim_startup(repeat: int = REPEAT) -> list[Result]:
    results: list[Result] = []
    with workdir("shim") as work:
        env = child_env(LAMINAR_DATASTORE=str(work))
        cases = shim_cases(work)
        #: figure -> (floor wall, shim wall, floor CPU, shim CPU) samples
        samples: dict[str, tuple[list[float], ...]] = {c[0]: ([], [], [], []) for c in cases}
        for round_ in range(repeat + 1):  # round 0 warms up (and writes bytecode caches)
            for figure, flow, argv, prepare in cases:
                execution = f"bench-{round_}"
                prepare(execution)
                floor = timed(floor_argv(flow), work, env)
                shim = timed(argv(execution), work, env)
                if round_:
                    values = (floor[0], shim[0], floor[1], shim[1])
                    for sample, value in zip(samples[figure], values, strict=True):
                        sample.append(value)
        for figure, flow, _, _ in cases:
            floor, shim, floor_cpu, shim_cpu = (statistics.median(s) for s in samples[figure])
            ratio = shim / floor
            short = figure.split(" --")[0].removeprefix("laminar ")
            results += [
                Result(f"floor: python -c 'import {flow.stem}'", floor * 1000, "ms"),
                Result(figure, shim * 1000, "ms"),
                Result(
                    f"  ratio ({short})",
                    round(ratio, 2),
                    "",
                    f"<= {SHIM_GOAL}x",
                    check(ratio, SHIM_GOAL + 1e-9),
                ),
                Result(
                    f"  CPU time ratio ({short})",
                    round(shim_cpu / floor_cpu, 2),
                    "",
                    note=f"CPU: floor {floor_cpu * 1000:.1f} ms, shim {shim_cpu * 1000:.1f} ms",
                ),
            ]
    return results


# -- (b) Airflow ---------------------------------------------------------------------------------

FAN_FLOW = """
    from laminar import Flow, Layer
    from laminar.configurations.layers import ForEach, Parameter


    class Fan{n}(Flow): ...


    @Fan{n}.register
    class Source(Layer):
        def __call__(self) -> None:
            self.shard(items=range({n}))


    @Fan{n}.register(foreach=ForEach(parameters=[Parameter(layer=Source, attribute="items")]))
    class Process(Layer):
        def __call__(self, source: Source) -> None:
            self.square = source.items * source.items


    @Fan{n}.register
    class Join(Layer):
        def __call__(self, process: Process) -> None:
            self.total = sum(process.square)
"""

NATIVE_DAG = """
    import datetime

    from airflow.sdk import dag, task


    @dag(
        dag_id="native_{n}",
        schedule=None,
        start_date=datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc),
        catchup=False,
    )
    def native():
        @task
        def source():
            return list(range({n}))

        @task
        def process(x):
            return x * x

        @task
        def join(squares):
            return sum(squares)

        join(process.expand(x=source()))


    native()
"""

#: The compiled DAG of each kind: `--shim subprocess` starts `python -m laminar` per task,
#: the default runs laminar in the task's own process (laminar.cli.inprocess).
SHIM_OPTIONS = {"compiled": ("--shim", "subprocess"), "inprocess": ()}

#: Runs in the Airflow venv: dag.test() each DAG named on the command line, in that order.
DRIVER = textwrap.dedent(
    """
    import json, logging, sys, time
    from airflow.dag_processing.dagbag import DagBag
    folder, out, dag_ids = sys.argv[1], sys.argv[2], sys.argv[3:]
    bag = DagBag(dag_folder=folder)
    assert not bag.import_errors, bag.import_errors
    results = {}
    for dag_id in dag_ids:
        started = time.perf_counter()
        run = bag.dags[dag_id].test()
        elapsed = time.perf_counter() - started
        state = run.state.value if hasattr(run.state, "value") else run.state
        results[dag_id] = {
            "seconds": elapsed, "state": str(state), "run_id": run.run_id,
            "task_instances": len(run.get_task_instances()),
        }
    with open(out, "w") as handle:
        json.dump(results, handle)
    """
)


def airflow_engine() -> tuple[str, Path | None]:
    """The Airflow venv's python and a migrated AIRFLOW_HOME, from the CI setup script."""
    python = os.environ.get("LAMINAR_AIRFLOW_PYTHON")
    home = os.environ.get("LAMINAR_AIRFLOW_HOME")
    if not python:
        done = subprocess.run(
            ["bash", str(ROOT / ".ci" / "setup-airflow.sh")],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "LAMINAR_AIRFLOW_KUBERNETES": "0"},
        )
        found = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
        python, home = found["LAMINAR_AIRFLOW_PYTHON"], found.get("LAMINAR_AIRFLOW_HOME")
    # Airflow runs from another folder: a relative path (.ci/cache/...) must not change meaning.
    # abspath, not resolve(): a venv's python is a symlink that must stay the venv's.
    return os.path.abspath(python), Path(os.path.abspath(home)) if home else None


def airflow_fanout(sizes: tuple[int, ...] = SIZES) -> list[Result]:
    python, template_home = airflow_engine()
    with workdir("airflow") as work:
        dags, store = work / "dags", work / "store"
        for folder in (dags, work / "flows"):
            folder.mkdir()
        kinds = ["native", "compiled", "inprocess"]
        for n in (WARM_UP, *sizes):
            write(work / "flows", f"fan{n}.py", FAN_FLOW.format(n=n))
            write(dags, f"native_{n}.py", NATIVE_DAG.format(n=n))
            for kind, shim in SHIM_OPTIONS.items():
                dag_id = f"{kind}_{n}"
                output = dags / f"{dag_id}.py"
                laminar("compile", f"flows/fan{n}.py", "--target", "airflow", "--dag-id", dag_id,
                        "--datastore", str(store), "--flow-cwd", "..", *shim, "-o", str(output),
                        cwd=work)  # fmt: skip
        if not has_in_process_shim(python) and "inprocess" in kinds:  # an older laminar
            kinds.remove("inprocess")
        runs: dict[str, dict[str, Any]] = {}
        for n in sizes:
            for kind in kinds:
                warm_up, timed = f"{kind}_{WARM_UP}", f"{kind}_{n}"
                runs.update(dag_test(python, template_home, work, warm_up, timed))
        return airflow_results(sizes, runs, work, store)


def tasks_pythonpath() -> str:
    """Airflow's tasks import this checkout's laminar, unless ``$PYTHONPATH`` names another
    (``PYTHONPATH=/old/checkout`` measures an older laminar)."""
    return os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), str(ROOT)) if p)


def has_in_process_shim(python: str) -> bool:
    """Whether the laminar that Airflow's tasks import has ``laminar.cli.inprocess``."""
    code = "import laminar.cli.inprocess"
    env = child_env(PYTHONPATH=tasks_pythonpath())
    done = subprocess.run([python, "-c", code], env=env, cwd=ROOT.parent, capture_output=True)
    return done.returncode == 0


def dag_test(
    python: str, template_home: Path | None, work: Path, warm_up: str, dag_id: str
) -> dict[str, dict[str, Any]]:
    """``dag.test()`` of ``warm_up`` (untimed) then ``dag_id`` in a fresh Airflow process and
    database: Airflow's first run in a process pays one-time costs, and a database holding
    earlier runs slows later ones down."""
    home = work / f"home-{dag_id}"
    home.mkdir()
    env = child_env(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(work / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        PYTHONPATH=tasks_pythonpath(),
    )
    if template_home is not None and (template_home / "airflow.db").is_file():
        shutil.copy(template_home / "airflow.db", home / "airflow.db")
    else:
        migrate = [python, "-m", "airflow", "db", "migrate"]
        subprocess.run(migrate, env=env, check=True, capture_output=True, timeout=600)
    report, log_path = work / f"report-{dag_id}.json", work / f"airflow-{dag_id}.log"
    with log_path.open("w") as log:
        done = subprocess.run(
            [python, "-c", DRIVER, str(work / "dags"), str(report), warm_up, dag_id],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=7200,
        )
    if done.returncode != 0:
        raise RuntimeError(f"the Airflow driver failed:\n{log_path.read_text()[-3000:]}")
    runs: dict[str, dict[str, Any]] = json.loads(report.read_text())
    return {dag_id: runs[dag_id]}


VARIANTS = (("compiled", "compiled (subprocess shim)"), ("inprocess", "compiled, shim in-process"))


def airflow_results(
    sizes: tuple[int, ...], runs: dict[str, dict[str, Any]], work: Path, store: Path
) -> list[Result]:
    """Both figures and the ratio per size, once each run's result is checked."""
    results: list[Result] = []
    for n in sizes:
        native = runs[f"native_{n}"]
        if native["state"] != "success":
            raise RuntimeError(f"native_{n}: state {native['state']}")
        figure = f"Airflow N={n}: native TaskFlow dag.test()"
        results.append(Result(figure, native["seconds"], "s"))
        for prefix, label in VARIANTS:
            run = runs.get(f"{prefix}_{n}")
            if run is None:
                note = "not measured: laminar has no in-process shim, or shim() changed"
                results.append(Result(f"Airflow N={n}: {label}", None, "s", note=note))
                continue
            total = join_total(n, work, store, run["run_id"])
            if run["state"] != "success" or total != sum(i * i for i in range(n)):
                raise RuntimeError(f"{prefix}_{n}: state {run['state']}, Join total {total}")
            ratio = run["seconds"] / native["seconds"]
            results += [
                Result(f"Airflow N={n}: {label}", run["seconds"], "s"),
                Result(
                    f"  ratio to native ({label})",
                    round(ratio, 2),
                    "",
                    f"<= {AIRFLOW_GOAL}x",
                    check(ratio, AIRFLOW_GOAL + 1e-9),
                ),
            ]
    return results


def join_total(n: int, work: Path, store: Path, run_id: str) -> object:
    """The compiled flow's result, read back from the datastore."""
    code = textwrap.dedent(
        f"""
        from laminar.model.loader import load_flow
        from laminar.runtime.results import open_results
        flow = load_flow({str(work / "flows" / f"fan{n}.py")!r})
        print(open_results(flow, {run_id!r}, {str(store)!r})["Join"].total)
        """
    )
    done = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, check=True)
    return int(done.stdout.strip())


def run(sizes: tuple[int, ...] = SIZES, airflow: bool = True, repeat: int = REPEAT) -> list[Result]:
    results = shim_startup(repeat)
    if airflow and sizes:
        results += airflow_fanout(sizes)
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES), help="Airflow N")
    parser.add_argument("--no-airflow", action="store_true", help="shim start-up only")
    parser.add_argument("--repeat", type=int, default=REPEAT, help="shim runs per figure")
    args = parser.parse_args()
    main(
        "deployed overhead (issue 15)",
        run(tuple(args.sizes), airflow=not args.no_airflow, repeat=args.repeat),
    )
    sys.exit(0)
