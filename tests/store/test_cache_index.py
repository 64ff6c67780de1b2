"""The cache index across many executions (issue 23): a flow run every night adds entry files
every night, and every task of a cached layer reads them all, so they are merged; a merge
loses no entry, keeps the newest of each key, drops the expired ones, and never makes a
reader that listed the files before it miss."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from laminar.store import cache
from laminar.store.cache import GRACE, MERGE_FILES, MERGED, CacheIndex
from laminar.store.datastore import Datastore
from laminar.store.execution import Execution
from laminar.store.integrity import Seal
from laminar.store.refusals import refused

LAYER = "Train"


def index(root: Path, execution: str = "reader", seal: Seal | None = None) -> CacheIndex:
    """A fresh reader (or writer, for ``execution``) of the flow's index: nothing read yet."""
    store = Datastore(f"file://{root}")
    return CacheIndex(Execution(store, "Nightly", execution, seal=seal or Seal(None)).objects)


def night(root: Path, number: int, keys: int = 3, seal: Seal | None = None) -> None:
    """Execution ``night-N`` commits ``keys`` tasks: keys k0.. (shared by every night, so the
    newest night must win) and one key of its own."""
    writer = index(root, f"night-{number}", seal)
    entries = {f"k{i}": str(i) for i in range(keys)} | {f"own-{number}": "9"}
    writer.write(LAYER, entries)


def files(root: Path) -> list[str]:
    return sorted(os.listdir(root / "Nightly" / "@cache" / LAYER))


def test_many_files_are_merged_into_one_holding_the_newest_entries(tmp_path: Path) -> None:
    nights = MERGE_FILES + 2
    for number in range(nights):
        night(tmp_path, number)
        time.sleep(0.001)  # each night's entries are newer than the last's
    before = index(tmp_path)
    expected = {key: before.read(LAYER, [key], None)[0] for key in before.entries(LAYER)}
    assert len(expected) == 3 + nights
    assert expected["k0"] is not None and expected["k0"].execution == f"night-{nights - 1}"

    merger = index(tmp_path)
    assert merger.tidy(LAYER, None) == nights  # every file replaced by one merged file
    assert merger.tidy(LAYER, None) == 0  # once per process
    merged = [name for name in files(tmp_path) if name.startswith(MERGED)]
    assert len(merged) == 1
    assert len(files(tmp_path)) == nights + 1  # the replaced files stay for a while

    after = index(tmp_path)
    assert after.files(LAYER) == 1  # a reader reads the merged file only
    assert {key: after.read(LAYER, [key], None)[0] for key in after.entries(LAYER)} == expected


def test_replaced_files_are_deleted_after_the_grace_period(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number in range(MERGE_FILES + 1):
        night(tmp_path, number)
    index(tmp_path).tidy(LAYER, None)
    keys = index(tmp_path).entries(LAYER)
    index(tmp_path).tidy(LAYER, None)  # within the grace period: nothing deleted
    assert len(files(tmp_path)) == MERGE_FILES + 2

    later = time.time() + GRACE + 1
    monkeypatch.setattr(cache.time, "time", lambda: later)
    assert index(tmp_path).tidy(LAYER, None) == 0
    remaining = files(tmp_path)
    assert len(remaining) == 1 and remaining[0].startswith(MERGED)
    assert index(tmp_path).entries(LAYER) == keys


def test_a_merge_drops_entries_older_than_max_age(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number in range(MERGE_FILES + 1):
        night(tmp_path, number)
    later = time.time() + 100
    monkeypatch.setattr(cache.time, "time", lambda: later)
    night(tmp_path, 999)  # written "100 s later" than the others
    index(tmp_path).tidy(LAYER, max_age=50)
    after = index(tmp_path)
    assert after.files(LAYER) == 1  # the merged file: what it dropped is not read again
    assert after.entries(LAYER) == ["k0", "k1", "k2", "own-999"]
    found = after.read(LAYER, after.entries(LAYER), None)
    assert {entry.execution for entry in found if entry is not None} == {"night-999"}


def test_a_damaged_merged_file_leaves_the_files_it_replaced_readable(tmp_path: Path) -> None:
    for number in range(MERGE_FILES + 1):
        night(tmp_path, number)
    keys = index(tmp_path).entries(LAYER)
    index(tmp_path).tidy(LAYER, None)
    directory = tmp_path / "Nightly" / "@cache" / LAYER
    merged = next(name for name in files(tmp_path) if name.startswith(MERGED))
    data = (directory / merged).read_bytes()
    (directory / merged).write_bytes(data[:-10])  # truncated
    reader = index(tmp_path)
    assert reader.entries(LAYER) == keys  # from the files it replaced
    assert reader.damaged(LAYER) == 1


def test_a_reader_that_listed_before_a_merge_finds_every_entry(tmp_path: Path) -> None:
    """A task that listed the files just before another merged them still reads them: the
    merge deletes nothing at once."""
    for number in range(MERGE_FILES + 1):
        night(tmp_path, number)
    early = index(tmp_path)
    directory = tmp_path / "Nightly" / "@cache" / LAYER
    listed = early.store.list_files(str(directory))
    index(tmp_path).tidy(LAYER, None)
    early.store.list_files = lambda path: listed  # type: ignore[method-assign]
    assert len(early.entries(LAYER)) == 3 + MERGE_FILES + 1


def test_a_merged_file_is_sealed_like_the_others(tmp_path: Path) -> None:
    """With a signing key, a merged file is signed and bound to its place: one copied under
    another layer is a miss, and an unsigned one cannot hide the files it claims to replace."""
    signed = Seal(b"a long random secret")
    for number in range(MERGE_FILES + 1):
        night(tmp_path, number, seal=signed)
    keys = index(tmp_path, seal=signed).entries(LAYER)
    index(tmp_path, seal=signed).tidy(LAYER, None)
    directory = tmp_path / "Nightly" / "@cache" / LAYER
    merged = next(name for name in files(tmp_path) if name.startswith(MERGED))
    other = directory.parent / "Other"
    other.mkdir()
    (other / merged).write_bytes((directory / merged).read_bytes())
    reader = index(tmp_path, seal=signed)
    assert reader.entries("Other") == [] and reader.damaged("Other") == 1

    forged = {"created": 0, "replaces": files(tmp_path), "entries": {"k0": ["x", "0", 1e12]}}
    forger = index(tmp_path)  # no key: a file sealed with a checksum only
    name = MERGED + "0" * 40 + ".entries"
    forger.store.write(str(directory / name), Seal(None).seal(json.dumps(forged).encode()))
    reader = index(tmp_path, seal=signed)
    assert reader.entries(LAYER) == keys and reader.damaged(LAYER) == 1
    assert reader.read(LAYER, ["k0"], None)[0].execution == f"night-{MERGE_FILES}"  # type: ignore[union-attr]


def test_runs_merge_their_entry_files_and_stay_served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Night after night (a new input each night, so new entries), the files stay few, and
    the next run with an earlier night's input is still served."""
    from laminar.model.loader import load_flow
    from laminar.runtime.executor import execute

    (tmp_path / "nightly.py").write_text(NIGHTLY)
    monkeypatch.setattr(cache, "MERGE_FILES", 3)
    flow = load_flow(str(tmp_path / "nightly.py")).ir()
    store = Datastore(f"file://{tmp_path / 'store'}")
    for day in range(8):
        execute(flow, store, f"day-{day}", inputs={"day": day})
    directory = tmp_path / "store" / "Nightly" / "@cache" / "Train"
    assert any(name.startswith(MERGED) for name in os.listdir(directory))
    reader = CacheIndex(Execution(store, "Nightly", "any", seal=Seal(None)).objects)
    assert reader.files("Train") <= 3 + 1
    assert len(reader.entries("Train")) == 8 * 2
    again = execute(flow, store, "again", inputs={"day": 2})
    served = again.commits.read_manifests("Train", ["0", "1"])
    assert [m.cached_from for m in served if m is not None] == ["day-2", "day-2"]


NIGHTLY = """
from laminar import Flow, ForEach, Layer, Parameter, Parameters


class Nightly(Flow):
    day: int = 0


@Nightly.register
class Start(Layer):
    def __call__(self, parameters: Parameters) -> None:
        self.shard(items=[parameters.day, parameters.day + 100])


@Nightly.register(
    cache=True, foreach=ForEach(parameters=[Parameter(layer=Start, attribute="items")])
)
class Train(Layer):
    def __call__(self, start: Start) -> None:
        self.model = start.items * 2
"""


def test_a_store_refusing_the_merge_fails_nothing(tmp_path: Path) -> None:
    """Merging is housekeeping: a store that refuses the write (full, read-only) leaves the
    files as they were, and the task that tried goes on."""
    for number in range(MERGE_FILES + 1):
        night(tmp_path, number)
    keys = index(tmp_path).entries(LAYER)
    refusing = index(tmp_path)

    def full(path: str, data: bytes, *, exclusive: bool = False) -> None:
        raise refused(OSError(28, "No space left on device"), "file://", path, len(data))

    refusing.store.write_atomic = full  # type: ignore[method-assign]
    assert refusing.tidy(LAYER, None) == 0
    assert len(files(tmp_path)) == MERGE_FILES + 1
    assert index(tmp_path).entries(LAYER) == keys
