"""Accessors behave like read-only lists and read only what is asked for."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from laminar import Flow, Layer
from laminar.errors import ArtifactError
from laminar.runtime.executor import execute
from laminar.store import chunks
from laminar.store.datastore import Datastore
from laminar.store.execution import Execution
from laminar.store.integrity import BLOCK


def run_shard(tmp_path: Path, values: Any) -> Any:
    """Shard ``values`` in one layer and return the Accessor a downstream layer sees."""

    class ShardFlow(Flow): ...

    @ShardFlow.register
    class Source(Layer):
        def __call__(self) -> None:
            self.shard(items=values)

    store = Datastore(str(tmp_path / "store"))
    execution = execute(ShardFlow.ir(), store, "e1")
    return execution.attribute("Source", "items", reader="test", foreach=False)


def test_list_behaviour(tmp_path: Path) -> None:
    acc = run_shard(tmp_path, [10, 20, 30, 40])
    assert len(acc) == 4
    assert list(acc) == [10, 20, 30, 40]
    assert acc[0] == 10 and acc[-1] == 40 and acc[-4] == 10
    assert acc[1:] == [20, 30, 40]
    assert acc[::2] == [10, 30]
    assert acc[::-1] == [40, 30, 20, 10]
    assert acc[5:] == []
    with pytest.raises(IndexError):
        acc[4]
    with pytest.raises(IndexError):
        acc[-5]
    with pytest.raises(TypeError, match="integers or slices, not str"):
        acc["a"]
    assert 30 in acc
    assert acc == [10, 20, 30, 40] and acc == (10, 20, 30, 40) and acc != [10, 20]
    assert acc != "not a list"
    assert acc.index(30) == 2
    assert "4 items" in repr(acc)


def test_empty_and_single(tmp_path: Path) -> None:
    empty = run_shard(tmp_path / "a", [])
    assert len(empty) == 0 and list(empty) == [] and empty[:] == []
    with pytest.raises(IndexError):
        empty[0]
    one = run_shard(tmp_path / "b", iter(["only"]))
    assert len(one) == 1 and one[0] == "only" and one[-1] == "only"


def test_chunk_boundaries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chunks, "CHUNK_ELEMENTS", 7)
    acc = run_shard(tmp_path, range(50))
    assert len(acc) == 50
    assert list(acc) == list(range(50))
    for i in (0, 6, 7, 13, 14, 48, 49, -1, -7, -8, -50):
        assert acc[i] == list(range(50))[i]
    assert acc[5:16] == list(range(5, 16))
    assert acc[-10:-3:2] == list(range(50))[-10:-3:2]
    assert acc[3:45:9] == list(range(3, 45, 9))


def test_generator_consumed_once(tmp_path: Path) -> None:
    def once() -> Iterator[dict[str, int]]:
        for i in range(5):
            yield {"i": i}

    acc = run_shard(tmp_path, once())
    assert [x["i"] for x in acc] == [0, 1, 2, 3, 4]


def test_reading_one_element_reads_little(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big = "x" * 10_000
    acc = run_shard(tmp_path, [big + str(i) for i in range(300)])
    read: list[int] = []
    original = Datastore.read_range

    def counting(self: Datastore, path: str, start: int, end: int) -> bytes:
        read.append(end - start)
        return original(self, path, start, end)

    def no_whole_reads(self: Datastore, path: str) -> bytes:
        raise AssertionError(f"whole-file read of {path}")

    monkeypatch.setattr(Datastore, "read_range", counting)
    monkeypatch.setattr(Datastore, "read", no_whole_reads)
    assert acc[250] == big + "250"
    # The checked 64 KiB blocks holding two offsets and one element, not 300 x 10 KB.
    assert sum(read) <= 3 * BLOCK < 300 * 10_000 // 4


def test_element_read_survives_other_chunks_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chunks, "CHUNK_ELEMENTS", 10)
    acc = run_shard(tmp_path, range(30))
    for chunk in sorted((tmp_path / "store").rglob("items.000000.chunk")):
        chunk.unlink()  # the first chunk is gone; elements of the others still read
    assert acc[25] == 25
    with pytest.raises(
        ArtifactError, match=r"Source\.items: chunk .*items\.000000\.chunk is missing"
    ):
        acc[3]


def test_accessor_nested_in_a_value_is_stored_as_a_list(tmp_path: Path) -> None:
    class NestFlow(Flow): ...

    @NestFlow.register
    class A(Layer):
        def __call__(self) -> None:
            self.shard(items=[1, 2])
            self.pair = {"items": self.items}  # an Accessor inside a dict
            self.same = self.items  # an Accessor as the whole value: stored as a reference

    @NestFlow.register
    class B(Layer):
        def __call__(self, a: A) -> None:
            self.got = (a.pair, list(a.same), a.same[1])

    store = Datastore(str(tmp_path / "s"))
    execution: Execution = execute(NestFlow.ir(), store, "e")
    got = execution.attribute("B", "got", reader="t", foreach=False)
    assert got == ({"items": [1, 2]}, [1, 2], 2)


def test_local_reads_return_files_exactly(tmp_path: Path) -> None:
    store = Datastore(str(tmp_path))
    for size in (0, 10, 65_535, 65_536, 65_537, 300_000):
        data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
        path = store.path(f"f{size}")
        store.write(path, data)
        assert store.read(path) == data
        assert store.read_range(path, 5, size + 10) == data[5:]
