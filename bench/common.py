"""Shared helpers for the benchmarks: results, the table, the machine, flows in temp dirs.

Every benchmark module has ``run() -> list[Result]`` and runs alone as a script
(``python bench/shard_scale.py``); ``bench/run.py`` runs them all and prints one table.
Timers are the standard library's ``time.perf_counter``; nothing here asserts on time.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
#: The interpreter that has laminar installed (the dev venv when present).
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else sys.executable


@dataclass(frozen=True)
class Result:
    figure: str
    value: float | None  # None: could not be measured (see note)
    unit: str
    goal: str = ""
    ok: bool | None = None  # None: informational, no goal
    note: str = ""

    def shown(self) -> str:
        if self.value is None:
            return "n/a"
        if self.unit == "ms":
            return f"{self.value:.2f} ms"
        if self.unit == "s":
            return f"{self.value:.2f} s"
        if self.unit == "x":
            return f"{self.value:.1f}x"
        if self.unit == "MiB":
            return f"{self.value:.1f} MiB"
        return f"{self.value:g} {self.unit}".strip()


def check(value: float | None, limit: float, *, at_least: bool = False) -> bool | None:
    if value is None:
        return None
    return value >= limit if at_least else value < limit


def table(results: list[Result]) -> str:
    rows = [("figure", "value", "goal", "ok?")]
    for r in results:
        ok = "" if r.ok is None else ("yes" if r.ok else "NO")
        rows.append((r.figure, r.shown(), r.goal, ok))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    notes = [f"  note ({r.figure}): {r.note}" for r in results if r.note]
    return "\n".join(lines + notes)


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; load average {load}"
    )


def main(title: str, results: list[Result]) -> None:
    print(f"# {title}\n# {machine()}")
    print(table(results))


@contextmanager
def workdir(prefix: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=f"laminar-bench-{prefix}-") as name:
        yield Path(name)


def write(directory: Path, name: str, source: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(source))
    return path


def laminar(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Run the laminar command as a user would; returns (wall seconds, process)."""
    started = time.perf_counter()
    done = subprocess.run(
        [PYTHON, "-m", "laminar", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=900,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"laminar {' '.join(args)} failed:\n{done.stderr}")
    return elapsed, done


def python(
    code: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter (cold caches, as a downstream process is)."""
    done = subprocess.run(
        [PYTHON, "-c", textwrap.dedent(code)],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{done.stderr}")
    return done
