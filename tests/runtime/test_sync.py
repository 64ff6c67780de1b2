"""``laminar sync``: which files of a local datastore a job uploads, as Python and as a command."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from conftest import laminar

from laminar.errors import LaminarError
from laminar.runtime import sync

ODD = "odd name\nwith a newline and ${{ x }} 'quotes'"


def write(root: Path, relative: str, content: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    root = tmp_path / "store"
    write(root, "unchanged.txt", "same")
    write(root, "changed.txt", "before")
    write(root, "deleted.txt", "gone soon")
    write(root, "deep/er/kept.bin", "nested")
    write(root, ".hidden", "dot file")
    write(root, f"{ODD}/file with spaces", "odd")
    return root


def test_only_new_and_changed_files_are_copied_keeping_their_paths(
    store: Path, tmp_path: Path
) -> None:
    snapshot = tmp_path / "snap.json"
    assert sync.snapshot(str(store), str(snapshot)) == 6
    write(store, "changed.txt", "after")
    (store / "deleted.txt").unlink()
    write(store, "new.txt", "new")
    write(store, "deep/er/new too", "nested new")
    write(store, ".dir/.hidden new", "hidden in hidden")
    write(store, f"{ODD}/another\nfile", "odd new")
    upload = tmp_path / "upload"
    copied = sync.changed(str(store), str(snapshot), str(upload))
    expected = {
        "changed.txt": "after",
        "new.txt": "new",
        "deep/er/new too": "nested new",
        ".dir/.hidden new": "hidden in hidden",
        f"{ODD}/another\nfile": "odd new",
    }
    assert sorted(copied) == sorted(expected)
    found = {path: (upload / path).read_text() for path in sync.files(upload)}
    assert found == expected  # unchanged and deleted files are not carried


def test_nothing_changed_copies_nothing(store: Path, tmp_path: Path) -> None:
    snapshot = tmp_path / "snap.json"
    sync.snapshot(str(store), str(snapshot))
    assert sync.changed(str(store), str(snapshot), str(tmp_path / "upload")) == []
    assert list((tmp_path / "upload").iterdir()) == []


def test_a_rewrite_with_the_same_content_is_unchanged(store: Path, tmp_path: Path) -> None:
    snapshot = tmp_path / "snap.json"
    sync.snapshot(str(store), str(snapshot))
    write(store, "unchanged.txt", "same")
    os.utime(store / "unchanged.txt", (0, 0))
    assert sync.changed(str(store), str(snapshot), str(tmp_path / "upload")) == []


def test_the_snapshot_records_path_and_sha256(store: Path, tmp_path: Path) -> None:
    snapshot = tmp_path / "snap.json"
    sync.snapshot(str(store), str(snapshot))
    files = json.loads(snapshot.read_text())["files"]
    assert files["deep/er/kept.bin"] == hashlib.sha256(b"nested").hexdigest()
    assert set(files) == set(sync.files(store))


def test_names_that_are_not_utf8_round_trip(tmp_path: Path) -> None:
    root = tmp_path / "store"
    root.mkdir()
    snapshot = tmp_path / "snap.json"
    sync.snapshot(str(root), str(snapshot))
    name = os.fsdecode(b"latin-1 \xe9t\xe9")
    (root / name).write_bytes(b"x")
    (root / "same").write_bytes(b"y")
    sync.snapshot(str(root), str(snapshot))
    (root / name).write_bytes(b"z")
    assert sync.changed(str(root), str(snapshot), str(tmp_path / "up")) == [name]
    assert (tmp_path / "up" / name).read_bytes() == b"z"


def test_symbolic_links_are_left_out(tmp_path: Path) -> None:
    root = tmp_path / "store"
    write(root, "real", "data")
    snapshot = tmp_path / "snap.json"
    sync.snapshot(str(root), str(snapshot))
    (root / "link").symlink_to(root / "real")
    (root / "dirlink").symlink_to(root)
    assert sync.changed(str(root), str(snapshot), str(tmp_path / "up")) == []


def test_a_missing_datastore_is_created_empty(tmp_path: Path) -> None:
    root = tmp_path / "not yet"
    assert sync.snapshot(f"file://{root}", str(tmp_path / "a" / "snap.json")) == 0
    assert root.is_dir()


def test_errors_say_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAMINAR_DATASTORE", raising=False)
    with pytest.raises(LaminarError, match="pass --datastore DIR or set LAMINAR_DATASTORE"):
        sync.snapshot(None, str(tmp_path / "snap.json"))
    with pytest.raises(LaminarError, match="need no syncing"):
        sync.snapshot("s3://bucket/x", str(tmp_path / "snap.json"))
    with pytest.raises(LaminarError, match="run laminar sync snapshot"):
        sync.changed(str(tmp_path), str(tmp_path / "missing.json"), str(tmp_path / "up"))
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(LaminarError, match="is not a laminar sync snapshot"):
        sync.changed(str(tmp_path), str(tmp_path / "bad.json"), str(tmp_path / "up"))


def test_the_command_takes_no_flow_and_reads_the_datastore_from_the_environment(
    store: Path, tmp_path: Path
) -> None:
    env = {"LAMINAR_DATASTORE": str(store)}
    snapshot = tmp_path / "snap.json"
    laminar("sync", "snapshot", "--to", str(snapshot), cwd=tmp_path, env=env)
    write(store, "new.txt", "new")
    result = laminar(
        "sync", "changed", "--since", str(snapshot), "--into", str(tmp_path / "up"),
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert "1 new or changed file(s)" in result.stderr
    assert (tmp_path / "up" / "new.txt").read_text() == "new"
    failed = laminar(
        "sync", "changed", "--since", str(tmp_path / "nope"), "--into", str(tmp_path / "up"),
        cwd=tmp_path, env=env, check=False,
    )  # fmt: skip
    assert failed.returncode == 2
    assert "run laminar sync snapshot" in failed.stderr
