"""Branching (issue 11): what entry hooks and skip decisions cost.

(a) **Per task, locally.** ``laminar run`` of Source -> ForEach over N -> Join, three ways:
plain; with an entry hook on the ForEach that lets every task run (each task then checks its
hook); with a hook that skips every other task (skip commits, and a join that reads which tasks
finished). Median of ``REPEAT`` runs each; the figure is the time per task beyond the plain
flow's. The alternative a user has without hooks is the plain flow with the condition inside
``__call__``, which is what the plain variant costs.

(b) **Per deployed task.** ``laminar task`` for a layer after a layer with an entry hook (it
first reads how that layer ended) against the same layer in a flow without hooks: median
wall time of fresh processes, interleaved.

Usage:
    .venv/bin/python bench/branching_overhead.py            # N = 2000
    .venv/bin/python bench/branching_overhead.py --tasks 500
"""

from __future__ import annotations

import argparse
import statistics

from common import Result, laminar, main, workdir, write

REPEAT = 5

FLOW = """
from laminar import Flow, ForEach, Layer, Parameter
from laminar.configurations import hooks

class Bench(Flow): ...

@Bench.register
class Source(Layer):
    def __call__(self) -> None:
        self.shard(n=range({tasks}))

@Bench.register(foreach=ForEach(parameters=[Parameter(layer=Source, attribute="n")]))
class Work(Layer):
    def __call__(self, source: Source) -> None:
        self.value = source.n * 2
{hook}

@Bench.register
class Join(Layer):
    def __call__(self, work: Work) -> None:
        self.total = sum(work.value)
"""

HOOKS = {
    "plain": "",
    "hook, all run": (
        "    @hooks.entry\n    def ready(self, source: Source) -> bool:\n        return True\n"
    ),
    "hook, half skipped": (
        "    @hooks.entry\n    def ready(self, source: Source) -> bool:\n"
        "        return source.n % 2 == 0\n"
    ),
}

CHAIN = """
from laminar import Flow, Layer
from laminar.configurations import hooks

class Chain(Flow): ...

@Chain.register
class First(Layer):
    def __call__(self) -> None:
        self.value = 1
{hook}

@Chain.register
class Second(Layer):
    def __call__(self, first: First) -> None:
        self.value = first.value + 1
"""


def local(tasks: int) -> list[Result]:
    medians: dict[str, float] = {}
    with workdir("branching") as directory:
        for name, hook in HOOKS.items():
            path = write(directory, f"{name.replace(' ', '_').replace(',', '')}.py",
                         FLOW.format(tasks=tasks, hook=hook))  # fmt: skip
            times = []
            for run in range(REPEAT):
                store = str(directory / f"store-{path.stem}")  # one per variant: all are "Bench"
                seconds, _ = laminar(
                    "run", str(path), "--execution", f"r{run}", "--datastore", store, "-q",
                    cwd=directory,
                )  # fmt: skip
                times.append(seconds)
            medians[name] = statistics.median(times)
    plain = medians["plain"]
    results = [Result(f"laminar run, {tasks} tasks, {name}", s, "s") for name, s in medians.items()]
    for name in ("hook, all run", "hook, half skipped"):
        extra = (medians[name] - plain) / tasks * 1000
        results.append(Result(f"per task beyond plain ({name})", extra, "ms"))
    return results


def deployed() -> list[Result]:
    hook = "    @hooks.entry\n    def ready(self) -> bool:\n        return True\n"
    times: dict[str, list[float]] = {"without hooks": [], "after a hook": []}
    with workdir("branching-task") as directory:
        flows = {
            "without hooks": write(directory, "plain.py", CHAIN.format(hook="")),
            "after a hook": write(directory, "hooked.py", CHAIN.format(hook=hook)),
        }
        for run in range(REPEAT * 3):
            for name, path in flows.items():  # interleaved: load hits both alike
                env = {"LAMINAR_EXECUTION": f"{path.stem}-{run}"}
                if name == "after a hook":  # First is planned (its hook) and run as a leg
                    laminar("plan", str(path), "--layer=First", cwd=directory, env=env)
                    laminar("task", str(path), "--layer=First", "--leg=0", cwd=directory, env=env)
                else:
                    laminar("task", str(path), "--layer=First", cwd=directory, env=env)
                seconds, _ = laminar("task", str(path), "--layer=Second", cwd=directory, env=env)
                times[name].append(seconds)
    base = statistics.median(times["without hooks"])
    after = statistics.median(times["after a hook"])
    return [
        Result("laminar task after a layer without hooks", base, "s"),
        Result("laminar task after a layer with an entry hook", after, "s"),
        Result("ratio", after / base, "x", note="the second first reads how First ended"),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=2000)
    arguments = parser.parse_args()
    main("Branching overhead", local(arguments.tasks) + deployed())
