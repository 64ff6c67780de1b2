"""``laminar run --workers N``: CPU-bound ForEach tasks on 1 and 2 worker processes.

Each task burns a fixed amount of pure-Python CPU. With two cores, two workers should take
close to half the time of one (goal: a speed-up of at least 1.6x). Another process loading
the machine lowers the figure, so the same burn is also run as bare processes (one, then two
with ``multiprocessing``): the speed-up this machine can give right now, for comparison.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import time

from common import Result, check, laminar, main, workdir, write

FLOW = """
    from laminar import Flow, Layer
    from laminar.configurations.layers import ForEach, Parameter

    class BurnFlow(Flow): ...

    @BurnFlow.register
    class Start(Layer):
        def __call__(self) -> None:
            self.shard(seeds=range({tasks}))

    @BurnFlow.register(foreach=ForEach(parameters=[Parameter(layer=Start, attribute="seeds")]))
    class Burn(Layer):
        def __call__(self, start: Start) -> None:
            x = start.seeds
            for i in range({loops}):
                x = (x * 1103515245 + 12345) % 2147483648
            self.result = x
"""

TASKS = 16
LOOPS = 1_000_000


def _layer_seconds(workers: int, directory: os.PathLike[str], execution: str) -> float:
    wall, done = laminar(
        "run", "flow.py", "--workers", str(workers), "--execution", execution, cwd=directory
    )
    # The layer's own time from the progress line; the whole command's if that changes.
    found = re.search(r"Burn: .*\(([\d.]+)s\)", done.stderr)
    return float(found.group(1)) if found else wall


def _burn(seeds: range) -> int:
    out = 0
    for x in seeds:
        for _ in range(LOOPS):
            x = (x * 1103515245 + 12345) % 2147483648
        out ^= x
    return out


def _bare(processes: int) -> float:
    started = time.perf_counter()
    if processes == 1:
        _burn(range(TASKS))
    else:
        halves = [range(0, TASKS, 2), range(1, TASKS, 2)]
        with multiprocessing.get_context("fork").Pool(2) as pool:
            pool.map(_burn, halves)
    return time.perf_counter() - started


def run() -> list[Result]:
    ones: list[float] = []
    twos: list[float] = []
    with workdir("workers") as directory:
        write(directory, "flow.py", FLOW.format(tasks=TASKS, loops=LOOPS))
        for k in range(2):  # interleaved, so a burst of load hits both alike
            ones.append(_layer_seconds(1, directory, f"one-{k}"))
            twos.append(_layer_seconds(2, directory, f"two-{k}"))
    one, two = min(ones), min(twos)
    bare = _bare(1) / _bare(2)
    speedup = one / two if two else None
    return [
        Result(f"{TASKS} CPU-bound tasks, --workers 1", one, "s", "", None),
        Result(f"{TASKS} CPU-bound tasks, --workers 2", two, "s", "", None),
        Result(
            "speed-up with 2 workers",
            speedup,
            "x",
            ">= 1.6x (about half the time)",
            check(speedup, 1.6, at_least=True),
        ),
        Result("same burn, bare processes: 2 vs 1", bare, "x", "(what the machine gives now)"),
    ]


if __name__ == "__main__":
    main("worker processes", run())
