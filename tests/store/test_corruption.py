"""Damaged artifacts are detected on read and named, with the fix; ``--rerun`` repairs them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import laminar

from laminar.errors import ArtifactError
from laminar.model.loader import load_flow
from laminar.runtime.results import ExecutionResults, materialize, open_execution
from laminar.store import chunks
from laminar.store.datastore import Datastore
from laminar.store.integrity import CorruptObjectError
from store.flows import flip_byte, only, pipeline, truncate

EXPECTED_TOTAL = sum(2 * i for i in range(20)) + 41 + 100_000


def run(tmp_path: Path, *extra: str, check: bool = True) -> object:
    return laminar("run", "pipe.py", "--execution", "e", *extra, cwd=tmp_path, check=check)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    pipeline(tmp_path)
    run(tmp_path)
    return tmp_path / ".laminar" / "Pipe" / "e"


def results(tmp_path: Path) -> ExecutionResults:
    ir = load_flow(str(tmp_path / "pipe.py")).ir()
    store = Datastore(str(tmp_path / ".laminar"))
    return ExecutionResults(ir, open_execution(store, ir.name, "e"))


DAMAGE: dict[str, Callable[[Path], None]] = {
    "flipped byte": flip_byte,
    "truncated": truncate,
    "emptied": lambda p: p.write_bytes(b""),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_shard_chunk_is_named_on_read(store: Path, tmp_path: Path, damage: str) -> None:
    DAMAGE[damage](only(store, "items.*.chunk"))
    with pytest.raises(CorruptObjectError) as raised:
        list(results(tmp_path)["Start"].items)
    message = str(raised.value)
    assert "Start.items: chunk" in message and "items.000000.chunk" in message
    assert "is damaged" in message and "--rerun Start" in message


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_chunk_is_caught_by_a_single_element_read(
    store: Path, tmp_path: Path, damage: str
) -> None:
    DAMAGE[damage](only(store, "items.*.chunk"))
    with pytest.raises(CorruptObjectError, match=r"Start\.items: chunk .* is damaged"):
        results(tmp_path)["Start"].items[15]


def test_overwritten_element_is_never_read_back_as_a_wrong_value(
    store: Path, tmp_path: Path
) -> None:
    chunk = only(store, "items.*.chunk")
    data = bytearray(chunk.read_bytes())
    # Element 7 pickles as protocol-5 int: change its value byte, keeping the file valid.
    start = chunks.data_start(20)
    offsets = [int.from_bytes(data[12 + 8 * i : 20 + 8 * i], "little") for i in range(21)]
    data[start + offsets[8] - 2] ^= 0x01
    chunk.write_bytes(bytes(data))
    with pytest.raises(CorruptObjectError, match="checksum does not match"):
        results(tmp_path)["Start"].items[7]


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_value_file_is_named(store: Path, tmp_path: Path, damage: str) -> None:
    DAMAGE[damage](only(store, "big.value"))
    with pytest.raises(CorruptObjectError) as raised:
        results(tmp_path)["Start"].big  # noqa: B018
    assert "Start.big: the file" in str(raised.value) and "big.value" in str(raised.value)
    assert "--rerun Start" in str(raised.value)


def test_deleted_value_file_and_chunk_are_named(store: Path, tmp_path: Path) -> None:
    only(store, "big.value").unlink()
    only(store, "items.*.chunk").unlink()
    with pytest.raises(ArtifactError, match=r"Start\.big: the file .*big\.value is missing"):
        results(tmp_path)["Start"].big  # noqa: B018
    with pytest.raises(ArtifactError, match=r"Start\.items: chunk .* is missing"):
        list(results(tmp_path)["Start"].items)


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_manifest_is_named(store: Path, tmp_path: Path, damage: str) -> None:
    DAMAGE[damage](store / "Start" / "tasks" / "main.manifest")
    with pytest.raises(CorruptObjectError) as raised:
        results(tmp_path)["Start"].small  # noqa: B018
    message = str(raised.value)
    assert "The commit of layer Start task main" in message and "main.manifest" in message
    assert "--rerun Start" in message


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_commit_group_is_named(store: Path, tmp_path: Path, damage: str) -> None:
    DAMAGE[damage](only(store / "Work", "*.group"))
    with pytest.raises(CorruptObjectError, match=r"The commit of layer Work tasks 0-19 .*group"):
        list(results(tmp_path)["Work"].double)


@pytest.mark.parametrize("damage", [*sorted(DAMAGE), "edited count"])
def test_damaged_plan_is_named(store: Path, tmp_path: Path, damage: str) -> None:
    plan = store / "Work" / "plan.json"
    if damage == "edited count":
        raw = json.loads(plan.read_text())
        plan.write_text(json.dumps({**raw, "count": 5}))
    else:
        DAMAGE[damage](plan)
    with pytest.raises(CorruptObjectError, match=r"The plan of ForEach layer Work .* damaged"):
        results(tmp_path)["Work"].tasks()


def test_cli_names_damage_and_rerun_repairs_it(store: Path, tmp_path: Path) -> None:
    truncate(store / "Start" / "tasks" / "main.manifest")
    shown = laminar("show", "pipe.py", "--execution", "e", "Sum.total", cwd=tmp_path)
    assert shown.stdout == f"{EXPECTED_TOTAL}\n"  # Sum's own commit is intact
    broken = laminar("show", "pipe.py", "--execution", "e", "Start.small", cwd=tmp_path,
                     check=False)  # fmt: skip
    assert broken.returncode == 2 and "Traceback" not in broken.stderr
    assert "laminar run pipe.py --execution e --rerun Start" in broken.stderr
    overview = laminar("show", "pipe.py", "--execution", "e", cwd=tmp_path, check=False)
    assert overview.returncode == 2 and "  Start [unreadable]\n  Work [20 tasks]" in overview.stdout
    assert "    total = " in overview.stdout and "--rerun Start" in overview.stderr
    plain = laminar("run", "pipe.py", "--execution", "e", cwd=tmp_path, check=False)
    assert plain.returncode == 2 and "Traceback" not in plain.stderr
    assert "laminar run pipe.py --execution e --rerun Start" in plain.stderr
    resumed = laminar("run", "pipe.py", "--execution", "e", "--rerun", "Start", cwd=tmp_path)
    assert "re-running Start, Work, Sum" in resumed.stderr
    assert resumed.stdout.count("ran Work") == 20 and "ran Sum" in resumed.stdout
    assert materialize(results(tmp_path)["Start"].small) == 41
    assert results(tmp_path)["Sum"].total == EXPECTED_TOTAL


def test_fix_names_the_datastore_given(store: Path, tmp_path: Path) -> None:
    (tmp_path / ".laminar").rename(tmp_path / "elsewhere")
    truncate(tmp_path / "elsewhere" / "Pipe" / "e" / "Start" / "tasks" / "main.manifest")
    shown = laminar("show", "pipe.py", "--execution", "e", "--datastore", "elsewhere",
                    "Start.small", cwd=tmp_path, check=False)  # fmt: skip
    fix = "laminar run pipe.py --datastore elsewhere --execution e --rerun Start"
    assert shown.returncode == 2 and fix in shown.stderr
    laminar(*fix.split()[1:], cwd=tmp_path)
    again = laminar("show", "pipe.py", "--execution", "e", "--datastore", "elsewhere",
                    "Start.small", cwd=tmp_path)  # fmt: skip
    assert again.stdout == "41\n"


def test_rerun_keeps_upstream_layers(store: Path, tmp_path: Path) -> None:
    flip_byte(only(store / "Work", "*.group"))
    again = laminar("run", "pipe.py", "--execution", "e", "--rerun", "Work", cwd=tmp_path)
    assert "ran Start" not in again.stdout and "Start: already committed" in again.stderr
    assert again.stdout.count("ran Work") == 20
    assert results(tmp_path)["Sum"].total == EXPECTED_TOTAL


def test_rerun_of_an_unknown_layer_or_without_execution_is_refused(
    store: Path, tmp_path: Path
) -> None:
    unknown = run(tmp_path, "--rerun", "Nope", check=False)
    assert unknown.returncode == 2  # type: ignore[attr-defined]
    assert "no layer named 'Nope'" in unknown.stderr  # type: ignore[attr-defined]
    bare = laminar("run", "pipe.py", "--rerun", "Start", cwd=tmp_path, check=False)
    assert bare.returncode == 2 and "pass --execution ID" in bare.stderr


def test_empty_execution_record_hides_nothing_and_resume_rewrites_it(
    store: Path, tmp_path: Path
) -> None:
    laminar("run", "pipe.py", "--execution", "other", cwd=tmp_path)
    (store / "execution.json").write_bytes(b"")
    listed = laminar("show", "pipe.py", cwd=tmp_path)
    assert listed.stdout.startswith("other  succeeded  started ")
    assert "e: its execution.json is damaged" in listed.stderr
    other = laminar("show", "pipe.py", "--execution", "other", "Sum.total", cwd=tmp_path)
    assert other.stdout == f"{EXPECTED_TOTAL}\n"
    resumed = laminar("run", "pipe.py", "--execution", "e", cwd=tmp_path)
    assert "Sum: already committed" in resumed.stderr
    assert json.loads((store / "execution.json").read_text())["execution"] == "e"
    listed = laminar("show", "pipe.py", cwd=tmp_path).stdout.splitlines()
    assert sorted(line.split()[0] for line in listed) == ["e", "other"]


BIG_ELEMENTS = """
from laminar import Flow, Layer

class Big(Flow): ...

@Big.register
class Start(Layer):
    def __call__(self) -> None:
        self.shard(items=[str(i) * 200_000 for i in range(1, 6)])  # 200-1000 KB each
"""


@pytest.mark.parametrize("cut", ["block boundary", "mid-block"])
def test_large_elements_span_blocks_and_truncation_anywhere_is_caught(
    tmp_path: Path, cut: str
) -> None:
    (tmp_path / "big.py").write_text(BIG_ELEMENTS)
    laminar("run", "big.py", "--execution", "e", cwd=tmp_path)
    ir = load_flow(str(tmp_path / "big.py")).ir()
    read = ExecutionResults(ir, open_execution(Datastore(str(tmp_path / ".laminar")), "Big", "e"))
    items = read["Start"].items
    assert items[3] == "4" * 200_000 and items[4] == "5" * 200_000  # each spans many blocks
    chunk = only(tmp_path / ".laminar", "items.*.chunk")
    data = chunk.read_bytes()
    keep = 10 * 65_536 if cut == "block boundary" else 10 * 65_536 + 1_000
    chunk.write_bytes(data[:keep])
    fresh = ExecutionResults(ir, open_execution(Datastore(str(tmp_path / ".laminar")), "Big", "e"))
    assert fresh["Start"].items[0] == "1" * 200_000  # before the cut: still whole and checked
    # Element 3 (bytes 600,096 to 800,108) starts in block 9 and ends past the cut.
    with pytest.raises(CorruptObjectError, match=r"Start\.items: chunk .* is damaged"):
        fresh["Start"].items[3]
