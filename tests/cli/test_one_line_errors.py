"""Issue 27, item 5: what used to end in a raw traceback is one message naming the fix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from conftest import laminar

VALUES = """
from laminar import Flow, Layer
from things import Point, Loud

class R(Flow): ...

@R.register
class A(Layer):
    def __call__(self) -> None:
        self.p = Point(1)
        self.loud = Loud()
        self.n = 3
        self.shard(points=[Point(1), Point(2)])
"""

THINGS = """
class Point:
    def __init__(self, x):
        self.x = x

class Loud:
    def __repr__(self):
        raise RuntimeError("no repr for you")
"""


def test_show_of_a_renamed_class_or_a_failing_repr(
    tmp_path: Path, write_flow: Callable[..., Path]
) -> None:
    write_flow(VALUES)
    things = write_flow(THINGS, "things.py")
    laminar("run", "flow.py", "--execution", "r", cwd=tmp_path)
    loud = laminar("show", "flow.py", "A.loud", cwd=tmp_path)
    assert loud.stdout == "<Loud whose __repr__ raised RuntimeError: no repr for you>\n"
    things.write_text(THINGS.replace("class Point", "class Moved"))
    (tmp_path / "flow.py").write_text(VALUES.replace("Point", "Moved"))
    fix = (
        "cannot load this value: its class Point is no longer in module things (renamed or "
        "removed?); show it with the code that wrote it, or keep the old name as an alias "
        "(Point = NewName)"
    )
    for target, where in (("A.p", "A.p"), ("A.points", "A.points[0]")):
        shown = laminar("show", "flow.py", target, cwd=tmp_path, check=False)
        assert shown.returncode == 2 and shown.stderr == f"laminar: error: {where}: {fix}\n"
    every = laminar("show", "flow.py", "--execution", "r", cwd=tmp_path)
    assert f"    p = <{fix}>\n" in every.stdout and "    n = 3\n" in every.stdout
    assert f"    points = <{fix}>\n" in every.stdout and "Traceback" not in every.stderr


def test_a_non_utf8_input_file(tmp_path: Path, write_flow: Callable[..., Path]) -> None:
    write_flow(EXITING.replace("sys.exit(0)", ""))
    (tmp_path / "bad.txt").write_bytes(b"ok\xff\xfe")
    run = laminar("run", "flow.py", "-p", "x=@bad.txt", cwd=tmp_path, check=False)
    assert run.returncode == 2
    assert run.stderr == (
        "laminar: error: -p x=@bad.txt: bad.txt is not UTF-8 text (byte 0xff at offset 2); "
        "inputs are text or JSON: save the file as UTF-8, or pass binary data base64-encoded.\n"
    )


EXITING = """
import sys
from laminar import Flow, Layer

class E(Flow): ...

@E.register
class A(Layer):
    def __call__(self) -> None:
        self.x = 1

sys.exit(0)
"""


def test_a_flow_file_that_exits_at_import(tmp_path: Path, write_flow: Callable[..., Path]) -> None:
    write_flow(EXITING.replace("sys.exit(0)", ""))
    laminar("compile", "flow.py", "--target", "github", "-o", "out.yml", cwd=tmp_path)
    written = (tmp_path / "out.yml").read_text()
    write_flow(EXITING)
    for arguments in (
        ("compile", "flow.py", "--target", "github", "-o", "out.yml", "--check"),
        ("compile", "flow.py", "--target", "github", "-o", "new.yml"),
        ("task", "flow.py", "--layer=A", "--execution", "x"),
        ("run", "flow.py"),
    ):
        result = laminar(*arguments, cwd=tmp_path, check=False)
        assert result.returncode == 2, arguments  # not 0, which would pass for success
        assert result.stderr.startswith(
            "laminar: error: Importing flow.py called sys.exit(0), so laminar cannot read its "
            "flow:\n"
        )
        assert "line 12, in <module>" in result.stderr
        assert result.stderr.endswith(
            "A flow file must not exit when imported: move that call under if __name__ == "
            '"__main__":.\n'
        )
    assert not (tmp_path / "new.yml").exists()
    assert (tmp_path / "out.yml").read_text() == written
    assert not (tmp_path / ".laminar").exists()
