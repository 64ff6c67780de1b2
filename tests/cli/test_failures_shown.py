"""Issue 27, items 1 and 2: every failure is a record, laminar show and laminar logs read it.

Each test runs laminar as a user (or an orchestrator's task) would and reads what it prints.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import EXAMPLES, ROOT, laminar

from laminar.cli import examples

FAILING = """
import logging, subprocess, sys
from laminar import Catch, Flow, ForEach, Layer, Parameter, Retry

class F(Flow): ...

@F.register
class Shard(Layer):
    def __call__(self) -> None:
        self.shard(foo=[1, 2, 3, 4, 5, 6])

@F.register(foreach=ForEach(parameters=[Parameter(layer=Shard, attribute="foo")]))
class Transform(Layer):
    def __call__(self, shard: Shard) -> None:
        print("hello from", self.index)
        if shard.foo == 4:
            raise ValueError("bad value 4")
        self.out = shard.foo * 2

@F.register
class Join(Layer):
    def __call__(self, t: Transform) -> None:
        self.total = sum(t.out)
"""


def failed_run(tmp_path: Path, write_flow: Callable[[str], Path]) -> None:
    write_flow(FAILING)
    run = laminar("run", "flow.py", "--execution", "e1", cwd=tmp_path, check=False)
    assert run.returncode == 1 and "Transform[3] failed: ValueError: bad value 4" in run.stderr
    assert "hello from 3" in run.stdout  # the terminal still sees the output


def test_show_of_a_failed_fanout_says_which_task_failed_and_shows_what_exists(
    tmp_path: Path, write_flow: Callable[[str], Path]
) -> None:
    failed_run(tmp_path, write_flow)
    shown = laminar("show", "flow.py", "--execution", "e1", cwd=tmp_path).stdout
    assert "  status: failed (started " in shown
    assert "  Transform [3/6 tasks committed]\n" in shown
    assert "    out = <3 items (the 3 finished of 6 tasks): [2, 4, 6]>" in shown  # not <6 items>
    assert "    Transform[3] failed on attempt 1: ValueError: bad value 4" in shown
    assert "    Transform[4, 5]: not committed and no failure recorded" in shown
    assert "  Join [not run]" in shown and "Run Transform first" not in shown
    # One layer: every failure with the user's traceback (not laminar's frames).
    layer = laminar("show", "flow.py", "Transform", cwd=tmp_path).stdout
    assert layer.startswith("[3/6 tasks committed]\nout = <3 items")
    assert '    raise ValueError("bad value 4")' in layer and "laminar/runtime" not in layer
    # One attribute of a partial fan-out: the finished tasks, and a warning saying so.
    out = laminar("show", "flow.py", "Transform.out", cwd=tmp_path)
    assert out.stdout == "[0] 2\n[1] 4\n[2] 6\n"
    assert "Transform committed 3 of 6 tasks" in out.stderr
    # The list of executions: status, start, duration, and the first failure.
    listed = laminar("show", "flow.py", cwd=tmp_path).stdout.splitlines()
    assert re.fullmatch(
        r"e1  failed  started \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC  took .*s", listed[0]
    )
    assert listed[1] == "    Transform[3] failed on attempt 1: ValueError: bad value 4"


def test_logs_shows_a_tasks_output_and_error(
    tmp_path: Path, write_flow: Callable[[str], Path]
) -> None:
    failed_run(tmp_path, write_flow)
    logs = laminar("logs", "flow.py", "Transform[3]", "--execution", "e1", cwd=tmp_path).stdout
    assert logs.startswith(
        "==> Transform[3] attempt 1, failed: ValueError: bad value 4 <==\n"
        "--- stdout ---\nhello from 3\n--- traceback ---\nTraceback (most recent call last):\n"
    )
    every = laminar("logs", "flow.py", "Transform", cwd=tmp_path).stdout
    assert [line for line in every.splitlines() if line.startswith("hello")] == [
        f"hello from {i}" for i in range(4)
    ]
    quiet = laminar("logs", "flow.py", "Shard", cwd=tmp_path)
    assert quiet.stdout == "" and "printed nothing and raised nothing" in quiet.stderr
    never = laminar("logs", "flow.py", "Transform[5]", cwd=tmp_path)
    assert "has not run (no commit and no record)" in never.stderr
    for target, message in (
        (
            "Transform[6]",
            "Transform[6] does not exist in execution e1: Transform has 6 tasks (0-5)",
        ),
        ("Shard[0]", "Layer Shard has no ForEach, so it has one task: name it without [0]"),
        ("Nope", "has no layer named 'Nope'"),
    ):
        wrong = laminar("logs", "flow.py", target, cwd=tmp_path, check=False)
        assert wrong.returncode == 2 and message in wrong.stderr and "Traceback" not in wrong.stderr
    for command in ("logs", "show"):
        unknown = laminar(command, "flow.py", "Shard", "--execution", "nope", cwd=tmp_path,
                          check=False)  # fmt: skip
        assert unknown.returncode == 2
        assert (
            "Unknown execution 'nope' of F" in unknown.stderr and "(recent: e1)" in unknown.stderr
        )


RETRIED = """
import os
from pathlib import Path
from laminar import Flow, Layer, Retry

class R(Flow): ...

@R.register(retry=Retry(attempts=3, delay=0))
class Flaky(Layer):
    def __call__(self) -> None:
        marker = Path("tried")
        print("attempt", self.attempt)
        if not marker.exists():
            marker.write_text("once")
            raise ConnectionError("the network blinked")
        self.value = 42
"""


def test_a_failed_attempt_that_a_retry_fixed_is_recorded(
    tmp_path: Path, write_flow: Callable[[str], Path]
) -> None:
    write_flow(RETRIED)
    laminar("run", "flow.py", "--execution", "r", cwd=tmp_path)
    logs = laminar("logs", "flow.py", "Flaky", cwd=tmp_path).stdout
    assert "==> Flaky attempt 1, failed: ConnectionError: the network blinked <==" in logs
    assert "==> Flaky attempt 2, finished <==\n--- stdout ---\nattempt 2\n" in logs
    one = laminar("logs", "flow.py", "Flaky", "--attempt", "2", cwd=tmp_path).stdout
    assert one.startswith("==> Flaky attempt 2") and "attempt 1" not in one
    shown = laminar("show", "flow.py", cwd=tmp_path).stdout
    assert shown.startswith("r  succeeded  started ") and "failed" not in shown


CAUGHT = """
from laminar import Catch, Flow, ForEach, Layer, Parameter
from laminar.configurations import hooks

class C(Flow): ...

@C.register
class Items(Layer):
    def __call__(self) -> None:
        self.shard(n=[1, 0, 2, -1])

@C.register(foreach=ForEach(parameters=[Parameter(layer=Items, attribute="n")]),
            catch=Catch(ZeroDivisionError))
class Divide(Layer):
    def __call__(self, items: Items) -> None:
        self.q = 1 / items.n

    @hooks.entry
    def positive_or_zero(self, items: Items) -> bool:
        return items.n >= 0
"""


def test_the_shim_tells_caught_errors_and_skips_in_the_tasks_own_log(
    tmp_path: Path, write_flow: Callable[[str], Path]
) -> None:
    write_flow(CAUGHT)
    env = {"LAMINAR_EXECUTION": "c", "LAMINAR_DATASTORE": str(tmp_path / "store")}
    laminar("task", "flow.py", "--layer=Items", cwd=tmp_path, env=env)
    legs = laminar("plan", "flow.py", "--layer=Divide", "--format", "count", cwd=tmp_path, env=env)
    assert legs.stdout.strip() == "4"
    caught = laminar("task", "flow.py", "--layer=Divide", "--leg", "1", cwd=tmp_path, env=env)
    assert "laminar: Divide[1]: ZeroDivisionError: division by zero (caught)" in caught.stderr
    skipped = laminar("task", "flow.py", "--layer=Divide", "--leg", "3", cwd=tmp_path, env=env)
    assert "laminar: Divide[3] skipped: entry hook positive_or_zero returned False" in (
        skipped.stderr
    )
    for leg in ("0", "2"):
        laminar("task", "flow.py", "--layer=Divide", "--leg", leg, cwd=tmp_path, env=env)
    layer = laminar("show", "flow.py", "Divide", cwd=tmp_path, env=env).stdout
    assert layer.startswith("[4 tasks, 1 skipped (3), 1 caught (1)]\n")
    assert "Divide[1] caught: ZeroDivisionError: division by zero\n" in layer
    assert "      self.q = 1 / items.n\n" in layer  # the caught error's own traceback
    assert "Divide[3] skipped: entry hook positive_or_zero returned False" in layer
    logs = laminar("logs", "flow.py", "Divide[1]", cwd=tmp_path, env=env).stdout
    assert logs.startswith("==> Divide[1] attempt 1, caught: ZeroDivisionError: division by zero")
    # The reason is in the record's stderr too: what the orchestrator showed.
    assert "laminar: Divide[1]: ZeroDivisionError: division by zero (caught)" in logs


NOISY = """
import logging, os, subprocess, sys
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
from laminar import Flow, Layer

class N(Flow): ...

@N.register
class Loud(Layer):
    def __call__(self) -> None:
        print("from print")
        logging.info("from logging")
        subprocess.run([sys.executable, "-c", "print('from a subprocess')"], check=True)
        os.write(2, b"from the descriptor\\n")
        sys.stdout.write("x" * int(os.environ.get("BIG", "0")))
        self.done = True
"""


def test_the_shim_keeps_every_kind_of_output_and_still_prints_it(
    tmp_path: Path, write_flow: Callable[[str], Path]
) -> None:
    write_flow(NOISY)
    env = {"LAMINAR_EXECUTION": "n", "LAMINAR_DATASTORE": str(tmp_path / "store")}
    task = laminar("task", "flow.py", "--layer=Loud", cwd=tmp_path, env=env)
    assert task.stdout == "from print\nfrom a subprocess\n"  # the orchestrator's log: unchanged
    assert "INFO from logging\nfrom the descriptor\n" in task.stderr
    logs = laminar("logs", "flow.py", "Loud", cwd=tmp_path, env=env).stdout
    assert logs == (
        "==> Loud attempt 1, finished <==\n--- stdout ---\nfrom print\nfrom a subprocess\n"
        "--- stderr ---\nINFO from logging\nfrom the descriptor\n"
    )


def test_a_long_output_is_cut_with_a_note(
    tmp_path: Path, write_flow: Callable[[str], Path]
) -> None:
    write_flow(NOISY)
    env = {"LAMINAR_DATASTORE": str(tmp_path / "store"), "BIG": str(3 * 1024 * 1024)}
    run = laminar("run", "flow.py", "--execution", "big", cwd=tmp_path, env=env)
    assert run.stdout.count("x") == 3 * 1024 * 1024  # the terminal got all of it
    logs = laminar("logs", "flow.py", "Loud", cwd=tmp_path, env=env).stdout
    note = re.search(r"\[laminar: (\d+) bytes of output cut here; the log keeps the first "
                     r"(\d+) and the last (\d+) bytes\]", logs)  # fmt: skip
    assert note is not None
    assert int(note[2]) + int(note[3]) == 1024 * 1024
    head = len("from print\nfrom a subprocess\n")  # kept bytes: those lines, then x's
    assert logs.count("x") == 1024 * 1024 - head and logs.startswith("==> Loud attempt 1, fin")


def test_a_killed_run_is_shown_as_running_then_interrupted(
    tmp_path: Path, write_flow: Callable[[str], Path]
) -> None:
    sleeping = FAILING.replace('raise ValueError("bad value 4")', "import time; time.sleep(600)")
    write_flow(
        sleeping.replace(
            'print("hello from", self.index)', 'print("hello from", self.index, flush=True)'
        )
    )
    env = {**os.environ, "LAMINAR_DATASTORE": str(tmp_path / ".laminar")}
    run = subprocess.Popen(
        [sys.executable, "-m", "laminar", "run", "flow.py", "--execution", "k"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert run.stdout is not None
        while b"hello from 3" not in run.stdout.readline():
            assert run.poll() is None
        listed = laminar("show", "flow.py", cwd=tmp_path).stdout
        assert listed.startswith("k  running  started ")
    finally:
        run.send_signal(signal.SIGKILL)
        run.wait()
    shown = laminar("show", "flow.py", "--execution", "k", cwd=tmp_path).stdout
    assert "  status: interrupted (started " in shown
    assert (
        "Transform[0, 1, 2, 3, 4, 5]: not committed and no failure recorded (not started, "
        "killed, or still running)"
        in shown
        or "Transform[3, 4, 5]: not committed" in shown
    )
    assert "Traceback" not in shown


def test_a_damaged_commit_or_record_is_named_and_the_rest_is_shown(
    tmp_path: Path, write_flow: Callable[[str], Path]
) -> None:
    failed_run(tmp_path, write_flow)
    base = tmp_path / ".laminar" / "F" / "e1"
    manifest = base / "Shard" / "tasks" / "main.manifest"
    manifest.write_bytes(manifest.read_bytes()[:20])  # truncated
    (record,) = (base / "Transform" / "attempts").iterdir()
    record.write_bytes(record.read_bytes()[:-5])
    shown = laminar("show", "flow.py", "--execution", "e1", cwd=tmp_path, check=False)
    assert shown.returncode == 2 and "Traceback" not in shown.stderr
    assert "  Shard [unreadable]\n  Transform [3/6 tasks committed]\n" in shown.stdout
    assert "    out = <3 items (the 3 finished of 6 tasks): [2, 4, 6]>" in shown.stdout
    assert f"The commit of layer Shard task main ({manifest}) is damaged" in shown.stderr
    assert "--rerun Shard" in shown.stderr
    assert f"the attempt record {record} cannot be read" in shown.stderr
    logs = laminar("logs", "flow.py", "Transform[3]", cwd=tmp_path, check=False)
    assert (
        logs.returncode == 2 and "cannot be read" in logs.stderr and "Traceback" not in logs.stderr
    )
    listed = laminar("show", "flow.py", cwd=tmp_path).stdout
    assert "    unreadable: The commit of layer Shard task main" in listed


def test_workers_keep_each_tasks_output(tmp_path: Path) -> None:
    flow = str(EXAMPLES / "grid.py")
    laminar("run", flow, "--execution", "w", "--workers", "2", cwd=tmp_path)
    for index, (foo, bar) in enumerate([(1, "a"), (2, "a"), (3, "a"), (1, "b")]):
        logs = laminar("logs", flow, f"Process[{index}]", cwd=tmp_path).stdout
        assert logs == (
            f"==> Process[{index}] attempt 1, finished <==\n--- stdout ---\n{index} {foo} {bar}\n"
        )


def test_logs_help_examples_run(tmp_path: Path) -> None:
    env = {"LAMINAR_DATASTORE": str(tmp_path / "store")}  # run from the repository's root
    laminar("run", "examples/grid.py", "--execution", "nightly-1", cwd=ROOT, env=env)
    shown = laminar("logs", "--help", cwd=tmp_path).stdout
    assert examples.LOGS in shown
    lines = [line.strip() for line in examples.LOGS.splitlines() if "laminar logs" in line]
    assert len(lines) == 3
    for line in lines:
        command = line.split("  ")[0].split()
        result = laminar(*command[1:], cwd=ROOT, env=env)
        assert result.stdout.startswith("==> Process[")


def test_attempt_records_are_json_next_to_the_commits(
    tmp_path: Path, write_flow: Callable[[str], Path]
) -> None:
    failed_run(tmp_path, write_flow)
    (record,) = (tmp_path / ".laminar" / "F" / "e1" / "Transform" / "attempts").iterdir()
    assert re.fullmatch(r"0-3\.[0-9a-f-]+\.json", record.name)
    data = record.read_bytes()
    raws = json.loads(data[data.index(b"[") :])  # behind the seal's header
    assert [(r["task"], r["status"], r["error_type"]) for r in raws] == [
        ("0", "finished", ""), ("1", "finished", ""), ("2", "finished", ""),
        ("3", "failed", "ValueError"),
    ]  # fmt: skip
    assert raws[3]["message"] == "bad value 4" and raws[3]["attempt"] == 1


@pytest.mark.parametrize("signed", [False, True])
def test_records_are_signed_with_the_key(
    tmp_path: Path, write_flow: Callable[[str], Path], signed: bool
) -> None:
    write_flow(FAILING)
    env = {"LAMINAR_SIGNING_KEY": "k1"} if signed else {}
    laminar("run", "flow.py", "--execution", "s", cwd=tmp_path, env=env, check=False)
    other = laminar("logs", "flow.py", "Transform[3]", cwd=tmp_path,
                    env={"LAMINAR_SIGNING_KEY": "k2"}, check=False)  # fmt: skip
    assert other.returncode == 2 and "cannot be read" in other.stderr
    assert "signature" in other.stderr or "not signed" in other.stderr


ODD = """
import sys
from laminar import Flow, Layer

class O(Flow): ...

@O.register
class A(Layer):
    def __call__(self) -> None:
        class Weird(Exception):
            def __str__(self):
                raise RuntimeError("no str")

        sys.stdout.buffer.write(b"bytes \\xff\\x1b[31m red\\n")
        raise Weird()
"""


def test_an_error_that_cannot_describe_itself_and_output_that_is_not_text(
    tmp_path: Path, write_flow: Callable[[str], Path]
) -> None:
    write_flow(ODD)
    run = subprocess.run([sys.executable, "-m", "laminar", "run", "flow.py", "--execution", "o"],
                         cwd=tmp_path, capture_output=True)  # fmt: skip
    assert run.stdout == b"bytes \xff\x1b[31m red\n"  # the terminal gets the bytes unchanged
    assert b"laminar: error: A failed: Weird: <exception str() failed>" in run.stderr
    listed = laminar("show", "flow.py", cwd=tmp_path).stdout
    assert "    A failed on attempt 1: A.__call__.<locals>.Weird: <Weird whose description " \
        "raised RuntimeError>\n" in listed  # fmt: skip
    logs = laminar("logs", "flow.py", "A", cwd=tmp_path).stdout
    assert "--- stdout ---\nbytes \ufffd\\x1b[31m red\n" in logs and "\x1b" not in logs
    attribute = laminar("show", "flow.py", "A.x", cwd=tmp_path, check=False)
    assert attribute.returncode == 2 and attribute.stderr == (
        "laminar: error: A failed on attempt 1 (A.__call__.<locals>.Weird: <Weird whose "
        "description raised RuntimeError>), so A has no attribute x in execution o; its output "
        "and traceback: laminar logs flow.py A --execution o\n"
    )


def test_a_damaged_plan_inputs_and_lease_are_named(
    tmp_path: Path, write_flow: Callable[[str], Path]
) -> None:
    failed_run(tmp_path, write_flow)
    base = tmp_path / ".laminar" / "F" / "e1"
    (base / "Transform" / "plan.json").write_text("garbage")
    (base / "inputs.json").write_text("[1, 2")
    (base / "lease.json").write_text('{"heartbeat": "abc", "pid": "x"}')
    shown = laminar("show", "flow.py", "--execution", "e1", cwd=tmp_path, check=False)
    assert shown.returncode == 2 and "Traceback" not in shown.stderr
    assert "  Transform [unreadable]\n    Transform[3] failed on attempt 1" in shown.stdout
    assert "  Join [not run]" in shown.stdout
    assert "inputs file of execution e1" in shown.stderr and "damaged" in shown.stderr
    assert "The plan of ForEach layer Transform" in shown.stderr
    listed = laminar("show", "flow.py", cwd=tmp_path).stdout
    assert listed.startswith("e1  failed  started ") and "    unreadable: " in listed
    logs = laminar("logs", "flow.py", "Transform[3]", cwd=tmp_path)  # the record is intact
    assert logs.stdout.startswith("==> Transform[3] attempt 1, failed: ValueError: bad value 4")


def test_a_task_failing_in_a_worker_process_is_recorded(
    tmp_path: Path, write_flow: Callable[[str], Path]
) -> None:
    write_flow(FAILING)
    run = laminar("run", "flow.py", "--execution", "w", "--workers", "2", cwd=tmp_path,
                  check=False)  # fmt: skip
    assert run.returncode == 1 and "Transform[3] failed: ValueError: bad value 4" in run.stderr
    shown = laminar("show", "flow.py", "--execution", "w", cwd=tmp_path).stdout
    assert "    Transform[3] failed on attempt 1: ValueError: bad value 4" in shown
    logs = laminar("logs", "flow.py", "Transform[3]", cwd=tmp_path).stdout
    assert "--- stdout ---\nhello from 3\n" in logs and "--- traceback ---" in logs
