"""Small flows and file helpers shared by the datastore fault-injection tests."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

#: Start (a plain value, a large value file, a shard) -> Work (ForEach over the shard) -> Sum.
PIPELINE = """
from laminar import Flow, Layer
from laminar.configurations.layers import ForEach, Parameter


class Pipe(Flow): ...


@Pipe.register
class Start(Layer):
    def __call__(self) -> None:
        print("ran Start")
        self.small = 41
        self.big = "x" * 100_000
        self.shard(items=range({n}))


@Pipe.register(foreach=ForEach(parameters=[Parameter(layer=Start, attribute="items")]))
class Work(Layer):
    def __call__(self, start: Start) -> None:
        print("ran Work", start.items)
        self.double = start.items * 2


@Pipe.register
class Sum(Layer):
    def __call__(self, start: Start, work: Work) -> None:
        print("ran Sum")
        self.total = sum(work.double) + start.small + len(start.big)
"""


def pipeline(directory: Path, n: int = 20) -> Path:
    path = directory / "pipe.py"
    path.write_text(textwrap.dedent(PIPELINE.format(n=n)))
    return path


def start_running(directory: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    """``laminar run ARGS`` in the background, returned once its layer wrote ``started``."""
    process = subprocess.Popen(
        [sys.executable, "-m", "laminar", "run", *args],
        cwd=directory, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not (directory / "started").exists():
        assert time.monotonic() < deadline and process.poll() is None, process.communicate()
        time.sleep(0.05)
    return process


def only(directory: Path, pattern: str) -> Path:
    """The one file under ``directory`` matching ``pattern`` (fails when there are several)."""
    found = sorted(directory.rglob(pattern))
    assert len(found) == 1, f"{pattern}: {found}"
    return found[0]


def flip_byte(path: Path, position: int | None = None) -> None:
    """Overwrite one byte in the middle (or at ``position``) without changing the length."""
    data = bytearray(path.read_bytes())
    where = len(data) // 2 if position is None else position
    data[where] ^= 0xFF
    path.write_bytes(bytes(data))


def truncate(path: Path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
