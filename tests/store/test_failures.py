"""Clear messages, not tracebacks: full and read-only disks, Ctrl-C, dead workers, long names,
definition errors, and ``laminar show`` on executions that stopped half-way."""

from __future__ import annotations

import errno
import os
import re
import shutil
import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import laminar

from laminar import Flow, Layer
from laminar.errors import FlowDefinitionError
from laminar.runtime.executor import execute
from laminar.runtime.results import ExecutionResults, materialize, open_execution
from laminar.runtime.script import run_and_report
from laminar.store import datastore as datastore_module
from laminar.store.datastore import Datastore, DatastoreFullError
from store.flows import pipeline


def _full_when(condition: Callable[[str], bool]) -> Callable[[str, bytes], None]:
    """A ``write_file`` that writes half the bytes, then fails as a full disk does."""
    original = datastore_module.write_file

    def write(path: str, data: bytes) -> None:
        if not condition(path):
            original(path, data)
            return
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        os.write(descriptor, data[: len(data) // 2])
        os.close(descriptor)
        try:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)
        except OSError:
            os.unlink(path)  # what write_file does on a failed write
            raise

    return write


def _files(root: Path, pattern: str) -> list[Path]:
    return sorted(p for p in root.rglob(pattern) if p.is_file())


@pytest.mark.parametrize("where", [".group", ".chunk", ".value"])
def test_full_disk_is_named_cleaned_up_and_resumable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    flow = pipeline(tmp_path)
    from laminar.model.loader import load_flow

    ir = load_flow(str(flow)).ir()
    store = tmp_path / "store"
    monkeypatch.setattr(datastore_module, "write_file", _full_when(lambda p: where in p))
    with pytest.raises(DatastoreFullError) as raised:
        execute(ir, Datastore(str(store)), "e")
    message = str(raised.value)
    layer = "Work" if where == ".group" else "Start"
    assert message.startswith(f"Layer {layer}: The datastore {store} is full")
    assert "bytes free" in message and "run the same command again" in message
    # Nothing half-written or temporary is left to keep the disk full.
    assert not [p for p in _files(store, "*") if p.name.startswith(".")]
    if where != ".group":
        assert not _files(store, "*.chunk") and not _files(store, "*.value")
    monkeypatch.undo()  # space freed
    execute(ir, Datastore(str(store)), "e")
    results = ExecutionResults(ir, open_execution(Datastore(str(store)), "Pipe", "e"))
    assert materialize(results["Work"].double) == [2 * i for i in range(20)]


def test_full_disk_on_the_command_line_is_one_message(tmp_path: Path) -> None:
    pipeline(tmp_path)
    (tmp_path / "sitecustomize.py").write_text(
        textwrap.dedent("""
        import errno, os
        from laminar.store import datastore
        original = datastore.write_file
        def full(path, data):
            if path.endswith(".chunk"):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)
            original(path, data)
        datastore.write_file = full
        """)
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    run = laminar("run", "pipe.py", "--execution", "e", cwd=tmp_path, env=env, check=False)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "error: Layer Start: The datastore .laminar is full" in run.stderr


def test_new_run_on_a_read_only_datastore(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Tests run as root, for whom chmod does not stop writes: the file system says EROFS.
    def read_only(path: str, *args: Any, **kwargs: Any) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), path)

    monkeypatch.setattr(datastore_module.os, "makedirs", read_only)
    from laminar.model.loader import load_flow

    ir = load_flow(str(pipeline(tmp_path))).ir()
    status, _ = run_and_report(ir, execution="e", datastore=str(tmp_path / "ro"), workers=1,
                               reference="pipe.py", quiet=False)  # fmt: skip
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err
    assert f"Cannot write to the datastore {tmp_path / 'ro'} (read-only file system" in err
    assert "Choose a writable one with --datastore" in err


def test_resume_on_a_read_only_datastore(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from laminar.model.loader import load_flow

    ir = load_flow(str(pipeline(tmp_path))).ir()
    store = str(tmp_path / "ro")
    execute(ir, Datastore(store), "e")
    real_open = os.open

    def read_only(path: str, flags: int, *args: Any) -> int:
        if flags & os.O_CREAT:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), path)
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", read_only)
    status, _ = run_and_report(ir, execution="e", datastore=store, workers=1,
                               reference="pipe.py", quiet=False)  # fmt: skip
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err
    assert "Cannot write to the datastore" in err and "lease.json" in err


INTERRUPTED = """
import os, signal
from pathlib import Path
from laminar import Flow, Layer

class Stop(Flow): ...

@Stop.register
class First(Layer):
    def __call__(self) -> None:
        self.value = 1

@Stop.register
class Second(Layer):
    def __call__(self, first: First) -> None:
        if not Path("interrupted").exists():
            Path("interrupted").write_text("once")
            os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C sends
        self.value = first.value + 1
"""


def test_ctrl_c_prints_the_resume_command(tmp_path: Path) -> None:
    (tmp_path / "stop.py").write_text(textwrap.dedent(INTERRUPTED))
    run = laminar("run", "stop.py", "--execution", "c1", cwd=tmp_path, check=False)
    assert run.returncode == 130 and "Traceback" not in run.stderr
    assert "interrupted; committed tasks are kept. Resume with: laminar run stop.py " \
        "--execution c1" in run.stderr  # fmt: skip
    resumed = laminar("run", "stop.py", "--execution", "c1", cwd=tmp_path)
    assert "First: already committed" in resumed.stderr and "Second: ran" in resumed.stderr


DYING = """
import os
from pathlib import Path
from laminar import Flow, Layer
from laminar.configurations.layers import ForEach, Parameter

class Die(Flow): ...

@Die.register
class Start(Layer):
    def __call__(self) -> None:
        self.shard(items=range(8))

@Die.register(foreach=ForEach(parameters=[Parameter(layer=Start, attribute="items")]))
class Work(Layer):
    def __call__(self, start: Start) -> None:
        if start.items == 5 and not Path("died").exists():
            Path("died").write_text("once")
            os._exit(9)  # as the OOM killer would end it
        self.value = start.items
"""


def test_worker_death_names_the_layer_and_tasks(tmp_path: Path) -> None:
    (tmp_path / "die.py").write_text(textwrap.dedent(DYING))
    run = laminar("run", "die.py", "--execution", "w", "--workers", "2", cwd=tmp_path,
                  check=False)  # fmt: skip
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert "BrokenProcessPool" not in run.stderr
    assert "A worker process died while running Work" in run.stderr
    named = re.search(r"among tasks ([\d, -]+)\. Tasks committed before are kept", run.stderr)
    assert named is not None and 5 in _expand(named[1])
    assert "resume with: laminar run die.py --execution w" in run.stderr
    laminar("run", "die.py", "--execution", "w", "--workers", "2", cwd=tmp_path)
    shown = laminar("show", "die.py", "--execution", "w", "Work.value", cwd=tmp_path)
    assert shown.stdout == "".join(f"[{i}] {i}\n" for i in range(8))


def _expand(ranges: str) -> set[int]:
    out: set[int] = set()
    for part in ranges.split(", "):
        first, _, last = part.partition("-")
        out.update(range(int(first), int(last or first) + 1))
    return out


def test_positional_only_call_argument_is_rejected_at_definition() -> None:
    class F(Flow): ...

    @F.register
    class A(Layer):
        def __call__(self) -> None:
            self.x = 1

    @F.register
    class B(Layer):
        def __call__(self, a: A, /) -> None: ...

    with pytest.raises(FlowDefinitionError, match=r"B\.__call__ takes 'a' as a positional-only"):
        F.ir()


def test_configuration_error_shows_the_users_line_not_laminars(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text(
        textwrap.dedent("""
        from laminar import Flow, Layer
        from laminar.configurations.layers import Retry

        class F(Flow): ...

        @F.register
        class A(Layer):
            retry = Retry(attempts=-1)
            def __call__(self) -> None: ...
        """)
    )
    run = laminar("run", "bad.py", cwd=tmp_path, check=False)
    assert run.returncode == 2
    assert "retry = Retry(attempts=-1)" in run.stderr
    assert "Retry(attempts=-1) must be from 1 (no retry)" in run.stderr
    assert "laminar/configurations" not in run.stderr and '"<string>"' not in run.stderr


LONG = "L" * 300


def test_300_character_names_stay_within_file_name_limits(tmp_path: Path) -> None:
    (tmp_path / "long.py").write_text(
        textwrap.dedent(f"""
        from laminar import Flow, Layer
        from laminar.configurations.layers import ForEach, Parameter

        class {LONG}Flow(Flow): ...

        @{LONG}Flow.register
        class {LONG}(Layer):
            def __call__(self) -> None:
                self.shard({"a" * 300}=range(3))
                self.{"b" * 300} = "x" * 70_000  # a value file

        @{LONG}Flow.register(
            foreach=ForEach(parameters=[Parameter(layer={LONG}, attribute="{"a" * 300}")])
        )
        class Fan(Layer):
            def __call__(self, up: {LONG}) -> None:
                self.y = up.{"a" * 300} + len(up.{"b" * 300})
        """)
    )
    execution = "e" * 250  # the longest id (Airflow run ids hold 250)
    laminar("run", "long.py", "--execution", execution, cwd=tmp_path)
    longest = max(len(p.name) for p in (tmp_path / ".laminar").rglob("*"))
    assert longest <= 255
    shown = laminar("show", "long.py", "--execution", execution, "Fan.y", cwd=tmp_path)
    assert shown.stdout == "[0] 70000\n[1] 70001\n[2] 70002\n"
    again = laminar("run", "long.py", "--execution", execution, cwd=tmp_path)
    assert "Fan: 3 tasks, 3 already committed" in again.stderr


STOPPED = """
import os
from laminar import Flow, Layer
from laminar.configurations.layers import ForEach, Parameter

class Half(Flow): ...

@Half.register
class Start(Layer):
    def __call__(self) -> None:
        self.shard(items=range(3000))

@Half.register(foreach=ForEach(parameters=[Parameter(layer=Start, attribute="items")]))
class Work(Layer):
    def __call__(self, start: Start) -> None:
        if start.items == 679 and os.environ.get("KILL") == "1":
            os._exit(9)  # as kill -9 would: the tasks before were committed in groups
        self.value = start.items

@Half.register(foreach=ForEach(parameters=[Parameter(layer=Work, attribute="value")]))
class After(Layer):
    def __call__(self, work: Work) -> None:
        self.value = work.value
"""


def test_show_tells_how_far_an_execution_got(tmp_path: Path) -> None:
    (tmp_path / "half.py").write_text(textwrap.dedent(STOPPED))
    env = {**os.environ, "KILL": "1"}
    env.pop("LAMINAR_DATASTORE", None)
    killed = laminar("run", "half.py", "--execution", "k", cwd=tmp_path, env=env, check=False)
    assert killed.returncode == 9
    # The kill lost the group in progress; commit what a kill at task 679 would have kept.
    from laminar.model.loader import load_flow
    from laminar.store.execution import Execution

    execution = Execution(Datastore(str(tmp_path / ".laminar")), "Half", "k")
    committed = execution.commits.committed_tasks("Work")
    assert committed <= {str(i) for i in range(679)}
    shown = laminar("show", "half.py", "--execution", "k", cwd=tmp_path)
    lines = shown.stdout.splitlines()
    assert f"  Work [{len(committed)}/3000 tasks committed]" in lines
    assert "  After [not planned]" in lines
    assert "  Start" in lines
    ir = load_flow(str(tmp_path / "half.py")).ir()
    assert ExecutionResults(ir, execution)["After"].tasks() is None
    # Options before the positional LAYER.attr work too.
    one = laminar("show", "half.py", "--execution", "k", "Start.items", cwd=tmp_path)
    assert one.stdout.startswith("[0] 0\n[1] 1\n")
    resumed = laminar("run", "half.py", "--execution", "k", cwd=tmp_path)
    # The killed run's lease names a process of this machine that no longer exists.
    assert re.search(r"taking over execution k from pid \d+ on .*: that process has exited",
                     resumed.stderr)  # fmt: skip
    done = laminar("show", "half.py", "--execution", "k", cwd=tmp_path).stdout.splitlines()
    assert "  Work [3000 tasks]" in done and "  After [3000 tasks]" in done


@pytest.fixture
def small_disk(tmp_path: Path) -> Any:
    """A real 1 MiB file system (tmpfs), where the test may mount one; skipped elsewhere."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                          capture_output=True)  # fmt: skip
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_really_full_disk_then_resume_after_freeing_space(tmp_path: Path, small_disk: Path) -> None:
    (tmp_path / "pipe.py").write_text(
        textwrap.dedent("""
        from laminar import Flow, Layer

        class Big(Flow): ...

        @Big.register
        class Start(Layer):
            def __call__(self) -> None:
                self.shard(items=range(300_000))  # about 4 MB of chunks, on a 1 MiB disk

        @Big.register
        class Sum(Layer):
            def __call__(self, start: Start) -> None:
                self.total = sum(start.items)
        """)
    )
    store = str(small_disk / "store")
    run = laminar("run", "pipe.py", "--execution", "e", "--datastore", store, cwd=tmp_path,
                  check=False)  # fmt: skip
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert f"error: Layer Start: The datastore {store} is full: no space left" in run.stderr
    used = shutil.disk_usage(small_disk).used
    assert used < 64 * 1024, f"{used} bytes left behind"  # the failed attempt's chunks: gone
    assert not [p for p in Path(store).rglob("*") if p.is_file() and p.name.startswith(".")]
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
    resumed = laminar("run", "pipe.py", "--execution", "e", "--datastore", store, cwd=tmp_path)
    assert "Sum: ran" in resumed.stderr
