"""Integrity (issue 27): every commit checked, inputs included; signatures bound to where an
object belongs; an empty signing key refused; one writer before anything is written."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
from conftest import laminar

from laminar.errors import ConfigurationError
from laminar.store.datastore import Datastore
from laminar.store.execution import Execution, Manifest, PlanRecord
from laminar.store.inputs import InputsConflictError, commit_inputs, read_inputs
from laminar.store.integrity import CorruptObjectError, Seal, SignatureError
from store.flows import start_running

KEY = "correct horse battery staple"

NIGHTLY = """
import time
from pathlib import Path
from laminar import Flow, Layer, Parameters


class Nightly(Flow):
    sample: int = 100


@Nightly.register
class Report(Layer):
    def __call__(self, parameters: Parameters) -> None:
        Path("started").write_text("yes")
        while Path("hold").exists() and not Path("go").exists():
            time.sleep(0.05)
        self.sample = parameters.sample
"""


def env(key: str | None = None) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k != "LAMINAR_SIGNING_KEY"}
    return clean if key is None else {**clean, "LAMINAR_SIGNING_KEY": key}


def run(tmp_path: Path, *args: str, key: str | None = None) -> subprocess.CompletedProcess[str]:
    return laminar("run", "nightly.py", "-q", *args, cwd=tmp_path, env=env(key), check=False)


@pytest.fixture
def nightly(tmp_path: Path) -> Path:
    (tmp_path / "nightly.py").write_text(textwrap.dedent(NIGHTLY))
    return tmp_path / ".laminar" / "Nightly"


def test_a_changed_digit_in_the_inputs_is_refused_on_resume(nightly: Path, tmp_path: Path) -> None:
    assert run(tmp_path, "--execution", "r1", "-p", "sample=100").returncode == 0
    inputs = nightly / "r1" / "inputs.json"
    assert json.loads(inputs.read_text())["inputs"] == {"sample": 100}
    inputs.write_text(inputs.read_text().replace("100", "101"))
    resumed = run(tmp_path, "--execution", "r1")
    assert resumed.returncode == 2 and "Traceback" not in resumed.stderr
    assert f"The inputs file of execution r1 ({inputs}) is damaged" in resumed.stderr
    assert "Start a new execution" in resumed.stderr
    shown = laminar("show", "nightly.py", "--execution", "r1", cwd=tmp_path, check=False)
    assert "Traceback" not in shown.stderr and "101" not in shown.stdout


def test_signed_inputs_copied_from_another_execution_are_refused(
    nightly: Path, tmp_path: Path
) -> None:
    assert run(tmp_path, "--execution", "r1", "-p", "sample=1", key=KEY).returncode == 0
    assert run(tmp_path, "--execution", "r2", "-p", "sample=2", key=KEY).returncode == 0
    assert json.loads((nightly / "r1" / "inputs.json").read_text())["seal"][1]  # signed
    shutil.copy(nightly / "r2" / "inputs.json", nightly / "r1" / "inputs.json")
    resumed = run(tmp_path, "--execution", "r1", key=KEY)
    assert resumed.returncode == 2 and "Traceback" not in resumed.stderr
    assert "has a signature that does not match LAMINAR_SIGNING_KEY" in resumed.stderr
    assert "copied here from another execution, layer or task" in resumed.stderr


def _execution(root: Path, name: str, key: str | None = KEY) -> Execution:
    return Execution(Datastore(str(root)), "F", name, seal=Seal(key.encode() if key else None))


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (("e2", "L", "main"), ("e1", "L", "main")),  # another execution
        (("e1", "M", "main"), ("e1", "L", "main")),  # another layer
        (("e1", "L", "3"), ("e1", "L", "4")),  # another task
    ],
)
def test_a_signed_manifest_is_bound_to_its_place(
    tmp_path: Path, source: tuple[str, str, str], target: tuple[str, str, str]
) -> None:
    for execution in ("e1", "e2"):
        for layer, task in (("L", "main"), ("M", "main"), ("L", "3"), ("L", "4")):
            value = f"{execution}/{layer}/{task}".encode()
            _execution(tmp_path, execution).commit(Manifest(layer, task, {"v": ("value", value)}))
    path = "{}/{}/tasks/{}.manifest"
    shutil.copy(tmp_path / "F" / path.format(*source), tmp_path / "F" / path.format(*target))
    with pytest.raises(SignatureError, match="copied here from another execution"):
        _execution(tmp_path, target[0]).commits.read_manifest(target[1], target[2])
    # Without the key only the checksum is checked, and the copy is whole: it reads (the
    # docs say so; the key is what makes a store trustworthy).
    unsigned = _execution(tmp_path, target[0], key=None).commits.read_manifest(*target[1:])
    assert unsigned is not None and unsigned.attributes["v"][1] == "/".join(source).encode()


def test_signed_plans_and_groups_are_bound_to_their_place(tmp_path: Path) -> None:
    one, two = _execution(tmp_path, "e1"), _execution(tmp_path, "e2")
    one.commits.write_plan("W", PlanRecord(count=3, legs=3))
    two.commits.write_plan("W", PlanRecord(count=9, legs=9))
    group = [Manifest("W", str(i), {"v": ("value", b"e2")}) for i in range(3)]
    two.commit_group(group)
    base = tmp_path / "F"
    shutil.copy(base / "e2" / "W" / "plan.json", base / "e1" / "W" / "plan.json")
    shutil.copytree(base / "e2" / "W" / "tasks", base / "e1" / "W" / "tasks")
    fresh = _execution(tmp_path, "e1")
    with pytest.raises(SignatureError, match="The plan of ForEach layer W"):
        fresh.commits.read_plan("W")
    with pytest.raises(SignatureError, match=r"The commit of layer W tasks 0-2 .*copied here"):
        fresh.commits.read_manifest("W", "1")


@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_signing_key_is_an_error_naming_the_fix(
    nightly: Path, tmp_path: Path, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run(tmp_path, "--execution", "r1", key=value)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "LAMINAR_SIGNING_KEY is set but empty" in result.stderr
    assert "unset it to run without signatures" in result.stderr
    assert not nightly.exists()  # nothing written unsigned
    monkeypatch.setenv("LAMINAR_SIGNING_KEY", value)
    with pytest.raises(ConfigurationError, match="is set but empty"):
        Seal.from_environment()


def test_inputs_are_committed_once_first_writer_wins(tmp_path: Path) -> None:
    first, second = _execution(tmp_path, "e"), _execution(tmp_path, "e")
    commit_inputs(first.objects, {"sample": 1})
    commit_inputs(second.objects, {"sample": 1})  # the same inputs: nothing to refuse
    with pytest.raises(InputsConflictError, match="started with input sample=1, not 2"):
        commit_inputs(second.objects, {"sample": 2})
    assert read_inputs(_execution(tmp_path, "e").objects) == {"sample": 1}
    with pytest.raises(CorruptObjectError):  # and unsealed inputs are not read
        (tmp_path / "F" / "e" / "inputs.json").write_text('{"sample": 1}')
        read_inputs(_execution(tmp_path, "e").objects)


def test_a_second_start_with_other_inputs_writes_nothing(nightly: Path, tmp_path: Path) -> None:
    (tmp_path / "hold").write_text("")
    first = start_running(tmp_path, "nightly.py", "--execution", "r1", "-p", "sample=1", env=env())
    try:
        second = run(tmp_path, "--execution", "r1", "-p", "sample=2")
        assert second.returncode == 2 and "is being written by pid" in second.stderr
        # The loser wrote nothing: the inputs are those the running execution uses.
        stored = json.loads((nightly / "r1" / "inputs.json").read_text())
        assert stored["inputs"] == {"sample": 1}
    finally:
        (tmp_path / "go").write_text("")
        first.communicate(timeout=60)
    assert first.returncode == 0
    shown = laminar("show", "nightly.py", "--execution", "r1", "Report.sample", cwd=tmp_path)
    assert shown.stdout == "1\n"
