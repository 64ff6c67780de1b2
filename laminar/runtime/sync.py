"""``laminar sync``: carry a local datastore between jobs that share nothing but artifacts.

On GitHub Actions every job starts on a fresh machine. A job downloads what earlier jobs
uploaded into a local datastore, runs the shim, and must upload only what it wrote (artifacts
are immutable and a wide fan-out must stay linear). Two steps around the shim do that:

* ``laminar sync snapshot --to FILE`` records every file of the datastore: its path relative
  to the datastore and the SHA-256 of its content;
* ``laminar sync changed --since FILE --into DIR`` copies each file that is new, or whose
  content changed, since that snapshot into ``DIR`` under the same relative path.

Deleted files are not carried: the datastore only grows, and a job never removes what another
job committed. Hidden files count like any other; symbolic links and special files are left
out (the datastore writes regular files only). Names are kept exactly as the file system gives
them (spaces, newlines, bytes that are not UTF-8), since the snapshot is JSON, not lines.

This module knows nothing of flows or of the IR: it sees a directory of files.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from laminar.contract import ENV_DATASTORE, redact_url
from laminar.errors import LaminarError

#: The snapshot file's format version, checked when it is read back.
SNAPSHOT_VERSION = 1
_CHUNK = 1 << 20


def local_root(datastore: str | None) -> Path:
    """The datastore directory: the argument, else ``$LAMINAR_DATASTORE``; a local path or
    ``file://`` URL only (remote datastores need no syncing)."""
    location = datastore or os.environ.get(ENV_DATASTORE)
    if not location:
        raise LaminarError(
            f"laminar sync needs the local datastore: pass --datastore DIR or set {ENV_DATASTORE}."
        )
    if location.startswith("file://"):
        location = location[len("file://") :]
    elif "://" in location:
        raise LaminarError(
            f"laminar sync copies files of a local datastore, not {redact_url(location)!r}: "
            "jobs reach a remote datastore directly and need no syncing."
        )
    return Path(location)


def files(root: Path) -> Iterator[str]:
    """Relative paths (``/``-separated) of the regular files under ``root``, hidden ones too."""
    pending = [""]
    while pending:
        relative = pending.pop()
        with os.scandir(root / relative if relative else root) as entries:
            for entry in entries:
                path = f"{relative}/{entry.name}" if relative else entry.name
                if entry.is_dir(follow_symlinks=False):
                    pending.append(path)
                elif entry.is_file(follow_symlinks=False):
                    yield path


def digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            sha.update(chunk)
    return sha.hexdigest()


def scan(root: Path) -> dict[str, str]:
    """Every file under ``root``: relative path -> SHA-256, in sorted order."""
    if not root.is_dir():
        return {}
    return {path: digest(root / path) for path in sorted(files(root))}


def snapshot(datastore: str | None, to: str) -> int:
    """Record the datastore's files in ``to`` (creating the datastore directory if needed);
    returns how many there are."""
    root = local_root(datastore)
    root.mkdir(parents=True, exist_ok=True)
    found = scan(root)
    target = Path(to)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(target.name + ".tmp")
    # ensure_ascii: a name that is not UTF-8 is kept as escaped surrogates, read back exactly.
    temporary.write_text(json.dumps({"version": SNAPSHOT_VERSION, "files": found}) + "\n")
    os.replace(temporary, target)
    return len(found)


def read_snapshot(since: str) -> dict[str, str]:
    try:
        data = json.loads(Path(since).read_text())
    except FileNotFoundError:
        raise LaminarError(
            f"No snapshot at {since}: run laminar sync snapshot --to {since} first."
        ) from None
    except (OSError, ValueError) as error:
        raise LaminarError(f"{since} is not a laminar sync snapshot: {error}") from None
    if not isinstance(data, dict) or data.get("version") != SNAPSHOT_VERSION:
        raise LaminarError(f"{since} is not a laminar sync snapshot (version {SNAPSHOT_VERSION}).")
    recorded: dict[str, str] = data["files"]
    return recorded


def changed(datastore: str | None, since: str, into: str) -> list[str]:
    """Copy the files new or changed since the snapshot ``since`` into ``into``, keeping their
    relative paths; returns those paths, sorted."""
    root = local_root(datastore)
    before = read_snapshot(since)
    target = Path(into)
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for path, sha in scan(root).items():
        if before.get(path) == sha:
            continue
        destination = target / path
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / path, destination)
        copied.append(path)
    return copied
