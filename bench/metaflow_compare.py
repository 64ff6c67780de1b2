"""laminar and Metaflow side by side: start -> foreach over N items -> join, N = 10, 100, 1,000.

Metaflow is installed from PyPI into its own virtual environment (``bench/.cache/
metaflow-venv``, created on first use) so it never touches laminar's. Both run the same flow
on this machine in the same run, each in a fresh temporary directory with a local datastore
(Metaflow: ``--datastore=local --metadata=local``, ``--max-num-splits`` above N, its default
``--max-workers``; laminar: ``laminar run``, its default of one process). The figure is the
wall time of the whole command. Per task is the slope between the smallest and the
largest N (start-up costs cancel); the goal is laminar at least 20x faster per task.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from common import BENCH, Result, check, laminar, main, workdir, write

SIZES = (10, 100, 1_000)
VENV = BENCH / ".cache" / "metaflow-venv"

METAFLOW_FLOW = """
    from metaflow import FlowSpec, step

    class FanFlow(FlowSpec):
        @step
        def start(self):
            self.items = list(range({n}))
            self.next(self.process, foreach="items")

        @step
        def process(self):
            self.foo = self.input * 2
            self.next(self.join)

        @step
        def join(self, inputs):
            self.total = sum(i.foo for i in inputs)
            print("total", self.total)
            self.next(self.end)

        @step
        def end(self):
            pass

    if __name__ == "__main__":
        FanFlow()
"""

LAMINAR_FLOW = """
    from laminar import Flow, Layer
    from laminar.configurations.layers import ForEach, Parameter

    class FanFlow(Flow): ...

    @FanFlow.register
    class Start(Layer):
        def __call__(self) -> None:
            self.shard(items=range({n}))

    @FanFlow.register(foreach=ForEach(parameters=[Parameter(layer=Start, attribute="items")]))
    class Process(Layer):
        def __call__(self, start: Start) -> None:
            self.foo = start.items * 2

    @FanFlow.register
    class Join(Layer):
        def __call__(self, process: Process) -> None:
            self.total = sum(process.foo)
            print("total", self.total)
"""


def metaflow_python() -> tuple[str | None, str]:
    """The venv's interpreter with metaflow installed and its version, or None and why."""
    python = VENV / "bin" / "python"
    try:
        if not python.exists():
            print(f"# creating {VENV} and installing metaflow from PyPI", file=sys.stderr)
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        probe = subprocess.run([str(python), "-c", "import metaflow"], capture_output=True)
        if probe.returncode != 0:
            subprocess.run(
                [str(python), "-m", "pip", "install", "--quiet", "metaflow"],
                check=True,
                capture_output=True,
                text=True,
            )
        version = subprocess.run(
            [str(python), "-c", "import metaflow; print(metaflow.__version__)"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as error:
        detail = getattr(error, "stderr", "") or str(error)
        return None, f"could not install metaflow: {str(detail).strip()[-300:]}"
    return str(python), version


def run_metaflow(python: str, n: int, directory: Path) -> float:
    write(directory, "fanflow.py", METAFLOW_FLOW.format(n=n))
    env = {
        **os.environ,
        "USERNAME": "bench",
        "USER": "bench",
        "METAFLOW_HOME": str(directory / "home"),
        "METAFLOW_DATASTORE_SYSROOT_LOCAL": str(directory),
        "METAFLOW_DEFAULT_DATASTORE": "local",
        "METAFLOW_DEFAULT_METADATA": "local",
    }
    command = [
        python,
        "fanflow.py",
        "--no-pylint",
        "--datastore=local",
        "--metadata=local",
        "run",
        "--max-num-splits",
        str(max(2 * n, 200)),
    ]
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=directory, env=env, capture_output=True, text=True, timeout=3600
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0 or f"total {n * (n - 1)}" not in done.stdout + done.stderr:
        raise RuntimeError(f"metaflow run failed:\n{(done.stdout + done.stderr)[-2000:]}")
    return elapsed


def run_laminar(n: int, directory: Path) -> float:
    write(directory, "flow.py", LAMINAR_FLOW.format(n=n))
    elapsed, done = laminar("run", "flow.py", cwd=directory)
    if f"total {n * (n - 1)}" not in done.stdout:
        raise RuntimeError(f"laminar run printed {done.stdout!r}")
    return elapsed


def run(sizes: tuple[int, ...] = SIZES) -> list[Result]:
    python, version = metaflow_python()
    results: list[Result] = []
    ours: dict[int, float] = {}
    theirs: dict[int, float] = {}
    for n in sizes:
        with workdir(f"laminar-{n}") as directory:
            ours[n] = run_laminar(n, directory)
        results.append(Result(f"laminar run, foreach of {n:,}", ours[n], "s"))
        if python is None:
            results.append(Result(f"metaflow run, foreach of {n:,}", None, "s", note=version))
            continue
        try:
            with workdir(f"metaflow-{n}") as directory:
                theirs[n] = run_metaflow(python, n, directory)
        except (RuntimeError, subprocess.TimeoutExpired) as error:
            note = f"Metaflow {version} could not run here: {str(error)[-300:]}"
            results.append(Result(f"metaflow run, foreach of {n:,}", None, "s", note=note))
            continue
        results += [
            Result(f"metaflow {version} run, foreach of {n:,}", theirs[n], "s"),
            Result(f"whole run: metaflow / laminar, N={n:,}", theirs[n] / ours[n], "x"),
        ]
    # Per task: the slope between the smallest and largest N, so start-up costs cancel.
    small, large = min(sizes), max(sizes)
    if large > small and small in theirs and large in theirs:
        mine = (ours[large] - ours[small]) / (large - small)
        other = (theirs[large] - theirs[small]) / (large - small)
        # laminar's slope can be within timer noise at small N: floor it at 0.1 ms per task.
        ratio = other / max(mine, 1e-4)
        results += [
            Result(f"laminar per task (N {small:,} -> {large:,})", mine * 1e3, "ms"),
            Result(f"metaflow per task (N {small:,} -> {large:,})", other * 1e3, "ms"),
            Result(
                "per task: metaflow / laminar",
                ratio,
                "x",
                ">= 20x",
                check(ratio, 20, at_least=True),
            ),
        ]
    return results


if __name__ == "__main__":
    chosen = tuple(int(a) for a in sys.argv[1:]) or SIZES
    main("laminar vs Metaflow (start -> foreach -> join)", run(chosen))
