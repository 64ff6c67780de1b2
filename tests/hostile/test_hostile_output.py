"""``laminar compile -o``: never overwrites the flow (or a module it imports), refuses a
directory, and leaves nothing behind when a write fails."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import laminar

from laminar.cli.compile import write_output
from laminar.errors import LaminarError

FLOW = """
from helpers import VALUE
from laminar import Flow, Layer


class F(Flow): ...


@F.register
class A(Layer):
    def __call__(self) -> None:
        self.x = VALUE
"""


@pytest.fixture
def flow(write_flow: Callable[[str, str], Path]) -> Path:
    write_flow("VALUE = 1\n", "helpers.py")
    return write_flow(FLOW, "flow.py")


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes() if p.is_file() else b"<dir>"
        for p in sorted(directory.rglob("*"))
        if "__pycache__" not in p.parts
    }


@pytest.mark.parametrize("target", ["airflow", "argo", "github"])
@pytest.mark.parametrize("output", ["flow.py", "./flow.py", "{abs}", "link.py", "hard.py"])
def test_output_that_is_the_flow_file_is_refused(
    flow: Path, tmp_path: Path, target: str, output: str
) -> None:
    (tmp_path / "link.py").symlink_to(flow)
    os.link(flow, tmp_path / "hard.py")
    before = _snapshot(tmp_path)
    extra = ["--datastore", "s3://b/p", "--image", "python:3.11"] if target == "argo" else []
    result = laminar(
        "compile", "flow.py", "--target", target, *extra, "-o", output.replace("{abs}", str(flow)),
        cwd=tmp_path, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "is the flow file itself: compiling would overwrite your code" in result.stderr
    assert "Traceback" not in result.stderr
    assert _snapshot(tmp_path) == before


def test_output_that_is_an_imported_module_is_refused(flow: Path, tmp_path: Path) -> None:
    before = _snapshot(tmp_path)
    result = laminar(
        "compile", "flow.py", "--target", "airflow", "-o", "helpers.py", cwd=tmp_path, check=False
    )
    assert result.returncode == 2
    assert "-o helpers.py is the source of Python module helpers" in result.stderr
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize("output", ["dags", "dags/", "."])
@pytest.mark.parametrize("check", [False, True])
def test_output_that_is_a_directory_is_refused(
    flow: Path, tmp_path: Path, output: str, check: bool
) -> None:
    (tmp_path / "dags").mkdir()
    before = _snapshot(tmp_path)
    result = laminar(
        "compile", "flow.py", "--target", "airflow", "-o", output, *(["--check"] if check else []),
        cwd=tmp_path, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert f"laminar: error: -o {output} is a directory; name the file to write" in result.stderr
    assert "Traceback" not in result.stderr
    assert _snapshot(tmp_path) == before


def test_a_failed_write_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = tmp_path / "out" / "dag.py"
    output.parent.mkdir()
    output.write_text("previous\n")

    def failing_replace(source: str, destination: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(LaminarError, match=r"Cannot write -o .*dag.py: No space left on device"):
        write_output("generated\n", str(output), False, "laminar compile ...")
    assert sorted(p.name for p in output.parent.iterdir()) == ["dag.py"]
    assert output.read_text() == "previous\n"


def test_a_directory_in_the_way_of_the_output_is_a_clear_error(flow: Path, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    result = laminar(
        "compile", "flow.py", "--target", "github", "-o", "file/wf.yml", cwd=tmp_path, check=False
    )
    assert result.returncode == 2
    assert "Cannot write -o file/wf.yml: its directory cannot be made" in result.stderr
    assert "Traceback" not in result.stderr


def test_writes_replace_atomically_and_keep_permissions(flow: Path, tmp_path: Path) -> None:
    output = tmp_path / "dags" / "dag.py"
    laminar("compile", "flow.py", "--target", "airflow", "-o", str(output), cwd=tmp_path)
    assert output.stat().st_mode & 0o777 == 0o666 & ~_umask()
    output.chmod(0o640)
    output.write_text("stale\n")
    result = laminar("compile", "flow.py", "--target", "airflow", "-o", str(output), cwd=tmp_path)
    assert result.stderr == f"laminar: wrote {output}\n"
    assert output.stat().st_mode & 0o777 == 0o640
    assert output.read_text() != "stale\n"
    assert sorted(p.name for p in output.parent.iterdir()) == ["dag.py"]
    check = laminar(
        "compile", "flow.py", "--target", "airflow", "-o", str(output), "--check", cwd=tmp_path
    )
    assert "is up to date" in check.stderr


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
