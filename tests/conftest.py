"""Shared fixtures: run laminar as a user would, write throwaway flow files, find engines."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from argo.s3 import MotoServer, S3Bucket

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def require_engine(variable: str, what: str) -> str:
    """The engine named by ``$variable``; skip locally without it, fail in CI (CI=true)."""
    value = os.environ.get(variable)
    if value:
        return value
    message = f"{what} not configured: set {variable} (.ci/run does)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _ctrl_c_as_in_a_terminal() -> None:
    """Give the command the default Ctrl-C, as a user's terminal does.

    A non-interactive shell starts its background jobs with SIGINT ignored (CI runs the suite on
    two Pythons side by side that way), and Python then never raises KeyboardInterrupt.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def laminar(
    *args: str, cwd: Path | str, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run the laminar command in a subprocess, as a user or an orchestrator would."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("LAMINAR_DATASTORE", None) if env is None else None
    result = subprocess.run(
        [sys.executable, "-m", "laminar", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=_ctrl_c_as_in_a_terminal,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"laminar {' '.join(args)} exited {result.returncode}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        )
    return result


@pytest.fixture
def write_flow(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a flow file into tmp_path; returns its path."""

    def write(source: str, name: str = "flow.py") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(source))
        return path

    return write


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """A local S3 server (moto) on 127.0.0.1, shared by the whole test session."""
    with MotoServer.start() as server:
        yield server


@pytest.fixture
def s3_bucket(moto_server: MotoServer) -> S3Bucket:
    """A fresh, empty bucket on the local S3 server."""
    return moto_server.bucket()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Engine test files first, each file's tests in their order (a stable sort).

    They are by far the longest files (an act or an Airflow run, workflows on the Argo
    harness). .ci/run hands out whole files in this order (``--dist loadfile
    --no-loadscope-reorder``; xdist's own order puts files with the most tests first, and so
    the engines' last): started first, the short files fill in behind them on both workers,
    and no worker is left alone with a long engine file at the end.
    """
    engine_files = {item.path for item in items if item.get_closest_marker("e2e")}
    items.sort(key=lambda item: item.path not in engine_files)
