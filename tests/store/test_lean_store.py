"""The store's start-up shortcuts give the same results as the libraries they avoid.

A deployed task must not pay for fsspec on a local datastore, nor for cloudpickle when it
stores only plain values (issue 15): local URLs are recognised without fsspec, and plain values
are pickled with the standard library. These tests hold both to fsspec's and cloudpickle's
own answers.
"""

from __future__ import annotations

import os
import pickle
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import cloudpickle
import fsspec
import pytest
from fsspec.implementations.local import LocalFileSystem

from laminar.pickling import is_plain
from laminar.store.datastore import Datastore, local_root

LOCAL = [
    ".laminar",
    ".",
    "data/x",
    "./x",
    "/abs/p",
    "/abs/p/",
    "/a//b/../c",
    "~/x",
    "file:///tmp/x",
    "file://relative",
    "file://~/q",
    "local:///tmp/y",
    "file:rel",
    "local:rel",
    "x:y",
    "C://x",
]
REMOTE = ["s3://bucket/prefix", "memory://x", "gcs://b/p", "simplecache::s3://b/p", "data:,abc"]


@pytest.mark.parametrize("url", LOCAL)
def test_local_urls_get_the_root_fsspec_gives(url: str) -> None:
    fs, root = fsspec.core.url_to_fs(url)
    assert isinstance(fs, LocalFileSystem)
    assert local_root(url) == os.path.abspath(root)
    store = Datastore(url)
    assert store.local
    assert store.root == os.path.abspath(root)


@pytest.mark.parametrize("url", REMOTE)
def test_other_urls_go_to_fsspec(url: str) -> None:
    assert local_root(url) is None


def test_a_remote_store_reads_and_writes_through_fsspec() -> None:
    store = Datastore("memory://laminar-lean-test")
    assert not store.local
    store.write_atomic(store.path("a", "b"), b"data")
    assert store.read(store.path("a", "b")) == b"data"
    assert store.list_files(store.path("a")) == ["b"]


def test_a_local_store_still_offers_its_fsspec_file_system(tmp_path: Path) -> None:
    store = Datastore(str(tmp_path))
    assert isinstance(store.fs, LocalFileSystem)


PLAIN = [
    0,
    -(2**70),
    1.5,
    float("inf"),
    "text",
    "",
    b"\x00bytes",
    True,
    None,
    [1, "a", None],
    (1, (2, (3,))),
    {"a": [1, 2], "b": {"c": 1.0}},
    {1, 2, 3},
    frozenset({"x"}),
    [],
    list(range(64)),
]


class Custom:
    pass


NOT_PLAIN = [
    Custom(),
    Custom,
    len,
    lambda x: x,
    list(range(65)),  # too long to check: cloudpickle decides
    [[[[1]]]],  # too deep to check
    {"a": Custom()},
    bytearray(b"x"),
    1j,
    [1, Custom()],
]


def stable_id(value: object) -> str:
    """The value's repr without memory addresses: every process collects the same ids
    (pytest-xdist's workers compare them)."""
    return re.sub(r" at 0x[0-9a-f]+", "", repr(value))


@pytest.mark.parametrize("value", PLAIN, ids=repr)
def test_plain_values_pickle_to_the_same_bytes_as_cloudpickle(value: object) -> None:
    assert is_plain(value)
    protocol = pickle.HIGHEST_PROTOCOL
    assert pickle.dumps(value, protocol) == cloudpickle.dumps(value, protocol=protocol)


@pytest.mark.parametrize("value", NOT_PLAIN, ids=stable_id)
def test_other_values_go_to_cloudpickle(value: object) -> None:
    assert not is_plain(value)


def test_flow_classes_pickle_by_value_when_cloudpickle_comes_late(tmp_path: Path) -> None:
    """Loading the flow file defers cloudpickle; the first non-plain value still pickles the
    flow's own classes by value, so a process without the file reads it."""
    flow = tmp_path / "valued.py"
    flow.write_text(
        textwrap.dedent(
            """
            from laminar import Flow, Layer

            class Point:
                def __init__(self, x):
                    self.x = x

            class Valued(Flow): ...

            @Valued.register
            class A(Layer):
                def __call__(self) -> None:
                    self.point = Point(3)
            """
        )
    )
    write = textwrap.dedent(
        f"""
        import sys
        from laminar.model.loader import load_module
        from laminar.pickling import cloudpickle
        module = load_module({str(flow)!r})
        assert "cloudpickle" not in sys.modules
        sys.stdout.buffer.write(cloudpickle.dumps(module.Point(3), protocol=5))
        """
    )
    data = subprocess.run(
        [sys.executable, "-c", write], capture_output=True, check=True, cwd=tmp_path
    ).stdout
    read = "import pickle, sys; print(pickle.loads(sys.stdin.buffer.read()).x)"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", read], input=data, capture_output=True, check=True, cwd=elsewhere
    )
    assert done.stdout.strip() == b"3"
