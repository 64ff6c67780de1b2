"""A datastore that cannot be used is a one-line error naming the fix, never a traceback:
a path that is a file, a file in the way, an unknown scheme, an endpoint that does not answer."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES, laminar

from laminar.errors import LaminarError
from laminar.store.datastore import Datastore, DatastoreUnreachableError, DatastoreWriteError

DIAMOND = str(EXAMPLES / "diamond.py")


def one_line_error(result: Any) -> str:
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("laminar: error:")]
    assert len(errors) == 1, result.stderr
    return str(errors[0])


@pytest.mark.parametrize("how", ["option", "environment"])
def test_a_datastore_path_that_is_a_file(tmp_path: Path, how: str) -> None:
    (tmp_path / "store").write_text("not a directory")
    if how == "option":
        result = laminar("run", DIAMOND, "--datastore", "store", cwd=tmp_path, check=False)
    else:
        env = {"LAMINAR_DATASTORE": "store"}
        result = laminar("run", DIAMOND, cwd=tmp_path, env=env, check=False)
    error = one_line_error(result)
    assert "The datastore store is a file, not a directory" in error
    assert "Name a directory" in error
    assert (tmp_path / "store").read_text() == "not a directory"


def test_a_file_in_the_way_of_a_directory(tmp_path: Path) -> None:
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "DiamondFlow").write_text("in the way")
    result = laminar("run", DIAMOND, "--datastore", "store", cwd=tmp_path, check=False)
    assert "a file is in the way where a directory must be" in one_line_error(result)


def test_an_unknown_scheme(tmp_path: Path) -> None:
    result = laminar("run", DIAMOND, "--datastore", "nosuch://bucket/p", cwd=tmp_path, check=False)
    error = one_line_error(result)
    assert "Cannot open datastore 'nosuch://bucket/p'" in error and "s3://bucket/prefix" in error


def test_an_unreachable_endpoint(tmp_path: Path) -> None:
    # Port 9 (discard) on the loopback: refused at once, no network needed.
    url = "http://127.0.0.1:9/store"
    result = laminar("run", DIAMOND, "--datastore", url, cwd=tmp_path, check=False)
    error = one_line_error(result)
    assert f"Cannot reach the datastore {url}" in error and "Check the URL, the network" in error


class Broken:
    """An fsspec file system whose every call fails as a dead connection does."""

    def invalidate_cache(self, path: str) -> None:  # local bookkeeping: never the network
        pass

    def __getattr__(self, name: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> Any:
            raise ConnectionResetError(104, "Connection reset by peer")

        return fail


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.read("root/x"),
        lambda s: s.read_range("root/x", 0, 4),
        lambda s: s.read_many(["root/x", "root/y"]),
        lambda s: s.write_atomic("root/x", b"data", exclusive=True),
        lambda s: s.write("root/x", b"data"),
        lambda s: s.exists("root/x"),
        lambda s: s.list_files("root"),
        lambda s: s.list_dirs("root"),
        lambda s: s.remove_tree("root"),
    ],
)
def test_every_remote_call_fails_clearly(call: Any) -> None:
    store = Datastore("memory://someone@root")
    store._fs = Broken()  # type: ignore[assignment]
    with pytest.raises(DatastoreUnreachableError) as caught:
        call(store)
    message = str(caught.value)
    assert message.startswith("Cannot reach the datastore memory://***@root")
    assert "ConnectionResetError" in message and "someone" not in message


def test_a_refused_remote_write_names_the_fix() -> None:
    store = Datastore("memory://root")

    class ReadOnly(Broken):
        def __getattr__(self, name: str) -> Any:
            def fail(*args: Any, **kwargs: Any) -> Any:
                raise PermissionError(13, "Access Denied")

            return fail

    store._fs = ReadOnly()  # type: ignore[assignment]
    with pytest.raises(DatastoreWriteError, match="Cannot write to the datastore memory://root"):
        store.write("root/x", b"data")
    assert issubclass(DatastoreUnreachableError, LaminarError)


@pytest.mark.parametrize("where", ["execution", "layer"])
def test_a_file_or_directory_in_the_way_of_a_read(tmp_path: Path, where: str) -> None:
    store = tmp_path / "store"
    assert laminar("run", DIAMOND, "--datastore", "store", "--execution", "e", cwd=tmp_path)
    execution = store / "DiamondFlow" / "e"
    if where == "execution":  # a directory where execution.json must be
        (execution / "execution.json").unlink()
        (execution / "execution.json").mkdir()
    else:  # a file where a layer's directory must be
        layer = next(p for p in execution.iterdir() if p.is_dir())
        shutil.rmtree(layer)
        layer.write_text("in the way")
    result = laminar(
        "show", DIAMOND, "--datastore", "store", "--execution", "e", cwd=tmp_path, check=False
    )
    assert "Traceback" not in result.stderr
    run = laminar("run", DIAMOND, "--datastore", "store", "--execution", "e", cwd=tmp_path,
                  check=False)  # fmt: skip
    assert "is in the way" in one_line_error(run)


def test_a_lease_path_that_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "store" / "DiamondFlow" / "e" / "lease.json").mkdir(parents=True)
    result = laminar("run", DIAMOND, "--datastore", "store", "--execution", "e", cwd=tmp_path,
                     check=False)  # fmt: skip
    assert "is in the way" in one_line_error(result)
