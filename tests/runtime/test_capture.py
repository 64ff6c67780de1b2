"""What a task prints is kept for its record and still reaches the terminal
(``laminar.runtime.capture``); these run in-process, as the local executor does."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from laminar.runtime import capture
from laminar.store.attempts import LOG_LIMIT


def test_prints_descriptors_and_subprocesses_are_captured(
    capfd: pytest.CaptureFixture[str],
) -> None:
    with capture.captured() as output:
        print("through print")
        os.write(1, b"through the descriptor\n")
        subprocess.run([sys.executable, "-c", "import sys; sys.stderr.write('child\\n')"],
                       check=True)  # fmt: skip
    assert output.stdout == "through print\nthrough the descriptor\n"
    assert output.stderr == "child\n"
    seen = capfd.readouterr()  # and it still reached the process's own stdout and stderr
    assert seen.out == "through print\nthrough the descriptor\n" and seen.err == "child\n"


def test_a_window_inside_a_task_captures_nothing_more() -> None:
    with capture.capturing(), capture.captured() as outer:
        print("outer")
        with capture.captured() as inner:
            print("inner")
    assert outer.stdout == "outer\ninner\n" and inner.stdout == ""


def test_each_task_of_a_leg_gets_its_own_output() -> None:
    outputs = []
    with capture.capturing():
        for k in range(3):
            with capture.captured() as output:
                print("task", k)
            outputs.append(output.stdout)
            print("between tasks")  # laminar's own lines belong to no task
    assert outputs == ["task 0\n", "task 1\n", "task 2\n"]


def test_long_output_keeps_its_head_and_tail() -> None:
    with capture.captured() as output:
        os.write(1, b"head" + b"." * (3 * LOG_LIMIT) + b"tail")
    assert output.stdout.startswith("head") and output.stdout.endswith("tail")
    assert f"[laminar: {3 * LOG_LIMIT + 8 - LOG_LIMIT} bytes of output cut here" in output.stdout
    assert len(output.stdout) < LOG_LIMIT + 200


def test_without_a_temporary_directory_nothing_is_captured_and_the_task_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse() -> int:
        raise PermissionError(13, "Read-only file system")

    monkeypatch.setattr(capture, "_SPOOL", None)
    monkeypatch.setattr(capture, "_UNAVAILABLE", 0)
    monkeypatch.setattr(capture, "_appending_spool", refuse)
    ran = []
    with capture.captured() as output:
        ran.append(True)
    assert ran == [True] and output.stdout == output.stderr == ""
    assert os.getpid() == capture._UNAVAILABLE  # not tried again for every task
