"""Orchestrator hops (issue 24): units each target schedules against the flow's layers.

Every flow of ``examples/`` and ``tests/flows/`` is lowered for every target, as ``laminar
compile`` lowers it. Per flow and target it prints:

* ``layers``: the flow's layers (the built-in ``Parameters`` layer included, as every
  target runs it) and ``deep``, the longest chain of layers;
* ``units``: the jobs the target schedules (a fan-out's legs count as one job here: how many
  legs it gets is known only when it runs), the exit hooks' job left out;
* ``path``: the longest chain of those jobs (the hops a run waits for one after another),
  and ``path/deep``.

Then per target the ratio of the summed chains and of the summed units to the layers. The
goal: chains equal to the layers' on every target, units within 5% of the layers.

Run: ``.venv/bin/python bench/hops.py`` (``--markdown`` for BENCHMARKS.md's table).
"""

from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from laminar.backends import TARGETS, dialect_class  # noqa: E402
from laminar.backends.jobs import JobGraph  # noqa: E402
from laminar.backends.lowering import CompileOptions, lower  # noqa: E402
from laminar.ir import FlowIR  # noqa: E402
from laminar.model.loader import flows_in  # noqa: E402

FOLDERS = ("examples", "tests/flows")


@dataclass(frozen=True)
class Row:
    flow: str
    target: str
    layers: int
    deep: int
    units: int
    path: int


def longest(after: dict[str, tuple[str, ...]], order: list[str]) -> int:
    """The longest chain of ``order`` (a topological order) along ``after`` edges."""
    depth: dict[str, int] = {}
    for node in order:
        depth[node] = 1 + max((depth[up] for up in after[node]), default=0)
    return max(depth.values(), default=0)


def flow_rows(name: str, ir: FlowIR) -> list[Row]:
    order = list(ir.order)
    deep = longest({n: ir.spec(n).dependencies for n in order}, order)
    rows = []
    for target in TARGETS:
        cls = dialect_class(target)
        options = CompileOptions(
            flow_ref=f"{name}.py",
            datastore="s3://bucket/prefix",
            image="python:3.12",
            target_options=cls.options_class(),
        )
        graph = lower(ir, options, cls(options).traits, target)
        rows.append(Row(name, target, len(order), deep, len(graph.jobs), path_of(graph)))
    return rows


def path_of(graph: JobGraph) -> int:
    return longest({job.id: job.after for job in graph.jobs}, [job.id for job in graph.jobs])


def collect() -> list[Row]:
    rows: list[Row] = []
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).glob("*.py")):
            if path.name.startswith("_"):
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                flows = flows_in(str(path))
                for flow in flows:
                    name = f"{folder}/{path.stem}" + (f":{flow.__name__}" if len(flows) > 1 else "")
                    rows += flow_rows(name, flow.ir())
    return rows


def table(rows: list[Row], markdown: bool) -> str:
    lines = []
    targets = list(TARGETS)
    head = ["flow", "layers", "deep", *(f"{t} units/path" for t in targets)]
    if markdown:
        lines += ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    else:
        lines.append("  ".join(head))
    flows = list(dict.fromkeys(row.flow for row in rows))
    for flow in flows:
        mine = {row.target: row for row in rows if row.flow == flow}
        first = next(iter(mine.values()))
        cells = [flow, str(first.layers), str(first.deep)]
        cells += [f"{mine[t].units}/{mine[t].path}" for t in targets]
        lines.append("| " + " | ".join(cells) + " |" if markdown else "  ".join(cells))
    lines.append("")
    for target in targets:
        mine = [row for row in rows if row.target == target]
        layers = sum(row.layers for row in mine)
        deep = sum(row.deep for row in mine)
        units = sum(row.units for row in mine)
        path = sum(row.path for row in mine)
        worst = max(mine, key=lambda row: row.path / row.deep)
        lines.append(
            f"{'- ' if markdown else ''}{target}: critical path {path}/{deep} = "
            f"{path / deep:.2f}x the layers' (worst {worst.flow} {worst.path}/{worst.deep}); "
            f"units {units}/{layers} = {units / layers:.2f}x the layers"
        )
    return "\n".join(lines)


def main() -> int:
    print(table(collect(), markdown="--markdown" in sys.argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
