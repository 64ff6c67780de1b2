"""Flows and tests written the way the original laminar library's docs teach run unchanged."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import laminar

from laminar import Flow, Layer, Parameters
from laminar.configurations import datastores, executors
from laminar.types import unwrap

flow = Flow(name="Test", datastore=datastores.Memory(), executor=executors.Thread())


@flow.register()
class A(Layer):
    def __call__(self) -> None:
        self.foo = "bar"


@flow.register()
class B(Layer):
    def __call__(self, a: A) -> None:
        self.foo = a.foo


@flow.register()
class C(Layer):
    def __call__(self, b: B, parameters: Parameters) -> None:
        self.foo = b.foo + parameters.suffix


def test_flow() -> None:
    execution = flow(suffix="!")
    results = flow.execution(unwrap(execution))
    assert results.layer(A).foo == "bar"
    assert results.layer(B).foo == "bar"
    assert results.layer(C).foo == "bar!"
    assert results.layer(Parameters).suffix == "!"


def test_a_flow_object_is_a_flow_class() -> None:
    assert type(flow).__name__ == "Test" and issubclass(type(flow), Flow)
    assert type(flow).ir().order == ("A", "B", "C")
    with pytest.raises(Exception, match="Flow\\(\\) needs a name"):
        Flow()


def test_datastores_are_urls(tmp_path: Path) -> None:
    assert datastores.Local(root=str(tmp_path)).url == str(tmp_path)
    assert datastores.AWS.S3(bucket="b", prefix="runs").url == "s3://b/runs"
    assert datastores.Memory().url != datastores.Memory().url


def test_executors_that_laminar_runs_locally_say_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    docker = type(flow)(datastore=str(tmp_path), executor=executors.Docker())
    execution = docker(suffix="?")
    assert execution.layer(C).foo == "bar?"
    assert "runs the flow on this machine without containers" in capsys.readouterr().err


SCRIPT = """
from laminar import Flow, Layer
from laminar.configurations import datastores, executors

flow = Flow("ScriptFlow", datastore=datastores.Local(root="runs"), executor=executors.Thread())


@flow.register()
class A(Layer):
    def __call__(self) -> None:
        print("hello from", self.name)


if __name__ == "__main__":
    flow()
"""


def test_a_flow_object_runs_as_a_script_and_from_the_cli(
    write_flow: Callable[[str, str], Path], tmp_path: Path
) -> None:
    path = write_flow(SCRIPT, "main.py")
    import subprocess
    import sys

    ran = subprocess.run(
        [sys.executable, str(path)], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert ran.stdout == "hello from A\n"
    assert (tmp_path / "runs" / "ScriptFlow").is_dir()
    assert laminar("run", str(path), "-q", cwd=tmp_path).stdout == "hello from A\n"
    assert "ScriptFlow" in laminar("graph", str(path), cwd=tmp_path).stdout
