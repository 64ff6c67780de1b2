"""Where artifacts live: a local directory by default, any fsspec URL otherwise.

Layout (all paths relative to the datastore root; see docs/datastore.md)::

    <Flow>/<execution>/execution.json            created on first use
    <Flow>/<execution>/<Layer>/plan.json         ForEach layers: task count and legs
    <Flow>/<execution>/<Layer>/tasks/<task>.manifest
    <Flow>/<execution>/<Layer>/tasks/<first>-<last>.group   manifests of consecutive tasks
    <Flow>/<execution>/<Layer>/data/<task>/<attempt>/...   values and shard chunks

``<task>`` is ``main`` for a layer without ForEach, else the task index. A task's outputs are
written under a fresh ``<attempt>`` directory first; the manifest, written last and atomically,
is the commit. A crashed attempt leaves only unreferenced files, which no read ever follows.
A leg of many small tasks commits them in groups (one atomic ``.group`` file holding their
manifests; see ``commits.TaskGroup``).

Failures of the disk itself (full, read-only, permission denied) become ``DatastoreWriteError``s
naming the file and the fix; a failed write leaves no partial or temporary file behind.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from laminar.contract import check_datastore_url, redact_url
from laminar.errors import LaminarError
from laminar.store.files import AlreadyCommitted, discard, link_exclusive, read_path, write_file
from laminar.store.refusals import DatastoreFullError, DatastoreWriteError, refused, unreadable
from laminar.store.remote import DatastoreUnreachableError, open_url, put, reaching
from laminar.text import printable

__all__ = ["AlreadyCommitted", "Datastore", "DatastoreFullError", "DatastoreWriteError"]
__all__ += ["DatastoreUnreachableError"]


if TYPE_CHECKING:
    import fsspec

ENV_DATASTORE = "LAMINAR_DATASTORE"
DEFAULT_DATASTORE = ".laminar"
_SAFE = re.compile(r"[^A-Za-z0-9._-]")
#: Longest path component ``safe_key`` returns: file systems allow 255 bytes, and suffixes
#: (``.000001.chunk``, temporary-file prefixes) must still fit.
MAX_KEY = 120
#: URL prefixes fsspec reads as the local file system (``LocalFileSystem._strip_protocol``).
_LOCAL_PREFIXES = ("file://", "local://", "file:", "local:")
#: Temporary file names: unique per process (renewed in forked workers) plus a counter,
#: instead of a uuid4 (an ``os.urandom`` call) per commit.
_TEMPORARY = f"{os.getpid()}-{os.urandom(6).hex()}-"
_COUNTER = itertools.count()


def _new_process() -> None:
    global _TEMPORARY
    _TEMPORARY = f"{os.getpid()}-{os.urandom(6).hex()}-"


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_process)


def resolve_url(url: str | None) -> str:
    """The datastore URL in force: the argument, then ``$LAMINAR_DATASTORE``, then ``.laminar``."""
    return url or os.environ.get(ENV_DATASTORE) or DEFAULT_DATASTORE


def local_root(url: str) -> str | None:
    """The absolute directory of a local datastore URL, or ``None`` for any other URL.

    Decided without importing fsspec (a deployed task's start-up pays for every import),
    giving the root fsspec's ``LocalFileSystem`` would: a plain path (``~`` expanded,
    relative to the working directory), ``file://`` and ``local://`` URLs. Chained URLs
    (``simplecache::s3://...``) and every other protocol go to fsspec.
    """
    if "::" in url or url.startswith("data:"):
        return None
    for prefix in _LOCAL_PREFIXES:
        if url.startswith(prefix):
            url = url[len(prefix) :]
            break
    else:
        protocol, separator, _ = url.partition("://")
        if separator and len(protocol) > 1:  # one letter: a Windows drive, C://x
            return None
    return os.path.abspath(os.path.expanduser(url) if url.startswith("~") else url)


def unique_name() -> str:
    """A name no other process or call uses (attempt directories, temporary files)."""
    return f"{_TEMPORARY}{next(_COUNTER)}"


def safe_key(text: str) -> str:
    """A path component for ``text``: unsafe characters replaced and long names shortened to
    a readable prefix, with a hash of the whole name that keeps distinct names apart. Names
    that are already safe and short are returned unchanged (stable across versions)."""
    if text and len(text) <= MAX_KEY and not _SAFE.search(text) and text not in {".", ".."}:
        return text
    import hashlib  # only for unsafe names: a plain path costs no import

    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
    return f"{_SAFE.sub('_', text)[:80]}-{digest}"


class Datastore:
    """Byte-level access to the store, with a fast path for local directories."""

    def __init__(self, url: str | None = None) -> None:
        # Credentials and control characters never reach a path, a message or a child task.
        self.url = check_datastore_url(
            resolve_url(url), "datastore" if url else f"${ENV_DATASTORE}"
        )
        #: The URL fit to print (``redact_url``): every message shows this, never ``url``.
        self.shown = redact_url(self.url)
        self._made: set[str] = set()
        root = local_root(self.url)
        self._fs: fsspec.AbstractFileSystem | None = None
        self.local = root is not None
        if root is not None:
            if os.path.exists(root) and not os.path.isdir(root):
                raise LaminarError(
                    f"The datastore {printable(self.shown)} is a file, not a directory. Name "
                    f"a directory (--datastore or ${ENV_DATASTORE}), or move the file away."
                )
            self.root = root  # bare os calls; fsspec is not even imported
            return
        fs, path = open_url(self.url, self.shown)
        self._fs = fs
        from fsspec.implementations.local import LocalFileSystem

        if isinstance(fs, LocalFileSystem):  # an fsspec URL of the local disk after all
            self.local = True
            self.root = os.path.abspath(path)
        else:
            self.root = path.rstrip("/")

    @property
    def fs(self) -> fsspec.AbstractFileSystem:
        """The fsspec file system of the store (for a local one, made on first use)."""
        if self._fs is None:
            from fsspec.implementations.local import LocalFileSystem

            self._fs = LocalFileSystem()
        return self._fs

    def path(self, *parts: str) -> str:
        return "/".join([self.root, *parts])

    # -- writing ---------------------------------------------------------------------------
    def write(self, path: str, data: bytes) -> None:
        """Write a file that nothing reads until a later manifest names it."""
        if self.local:
            try:
                self._makedirs(os.path.dirname(path))
                write_file(path, data)
            except OSError as error:
                raise refused(error, self.url, path, len(data)) from None
        else:
            self._put(path, data, exclusive=False)

    def write_atomic(self, path: str, data: bytes, *, exclusive: bool = False) -> None:
        """Write so that readers see either nothing or all of ``data`` (commit markers).

        ``exclusive``: first writer wins. If ``path`` exists, nothing is written and
        ``AlreadyCommitted`` is raised: locally the temporary file is hard-linked into place
        (``link`` fails on an existing name, unlike ``rename``); on S3 the PUT carries
        ``If-None-Match: *`` (stores without conditional writes: see docs/datastore.md).
        """
        if not self.local:
            # A single PUT is atomic on object stores: the object appears whole or not at all.
            self._put(path, data, exclusive)
            return
        directory = os.path.dirname(path)
        temporary = os.path.join(directory, f".{os.path.basename(path)[:100]}.{unique_name()}")
        try:
            self._makedirs(directory)
            write_file(temporary, data)
            if exclusive:
                link_exclusive(temporary, path)
            else:
                os.replace(temporary, path)
        except OSError as error:
            discard(temporary)
            raise refused(error, self.url, path, len(data)) from None

    def _put(self, path: str, data: bytes, exclusive: bool) -> None:
        with reaching(self.url, self.shown, path, len(data)):
            put(self.fs, path, data, exclusive)

    def _makedirs(self, directory: str) -> None:
        if directory not in self._made:
            os.makedirs(directory, exist_ok=True)
            self._made.add(directory)

    def remove_tree(self, path: str) -> None:
        """Delete ``path`` and everything below it (missing: nothing to do)."""
        if self.local:
            import shutil  # here: only clearing removes trees, and shutil costs every task

            shutil.rmtree(path, ignore_errors=True)
            return
        with contextlib.suppress(FileNotFoundError), reaching(self.url, self.shown, path):
            self.fs.rm(path, recursive=True)
        self.fs.invalidate_cache(path)

    def remove_files(self, paths: Sequence[str]) -> None:
        """Delete files ``paths``, in order (missing ones: nothing to do)."""
        for path in paths:
            if self.local:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
                continue
            with contextlib.suppress(FileNotFoundError), reaching(self.url, self.shown, path):
                self.fs.rm_file(path)

    # -- reading ---------------------------------------------------------------------------
    def read(self, path: str) -> bytes:
        if self.local:
            with unreadable(self.shown, path):
                return read_path(path)
        with reaching(self.url, self.shown, path):
            data: bytes = self.fs.cat_file(path)
        return data

    def read_or_none(self, path: str) -> bytes | None:
        try:
            return self.read(path)
        except FileNotFoundError:
            return None

    def read_range(self, path: str, start: int, end: int) -> bytes:
        if self.local:
            with unreadable(self.shown, path):
                return read_path(path, start, end - start)
        with reaching(self.url, self.shown, path):
            data: bytes = self.fs.cat_file(path, start=start, end=end)
        return data

    def read_many(self, paths: Sequence[str]) -> list[bytes | None]:
        """Read several files; concurrently on remote stores. Missing files give ``None``."""
        if self.local or len(paths) <= 1:
            return [self.read_or_none(p) for p in paths]
        with reaching(self.url, self.shown, paths[0]):
            found: dict[str, Any] = self.fs.cat(list(paths), on_error="return")
        for path, value in found.items():  # a missing file is None; any other error is one
            if isinstance(value, Exception) and not isinstance(value, FileNotFoundError):
                with reaching(self.url, self.shown, path):
                    raise value
        return [v if isinstance(v, bytes) else None for v in (found.get(p) for p in paths)]

    def exists(self, path: str) -> bool:
        if self.local:
            return os.path.exists(path)
        with reaching(self.url, self.shown, path):
            return bool(self.fs.exists(path))

    def list_files(self, path: str) -> list[str]:
        """Names of the files directly below ``path`` (empty if it does not exist)."""
        if self.local:
            with contextlib.suppress(FileNotFoundError), unreadable(self.shown, path):
                return sorted(e.name for e in os.scandir(path) if not e.is_dir())
            return []
        self.fs.invalidate_cache(path)  # s3fs caches listings; commits since must show
        try:
            with reaching(self.url, self.shown, path):
                entries = self.fs.ls(path, detail=True)
        except FileNotFoundError:
            return []
        return sorted(
            e["name"].rstrip("/").rsplit("/", 1)[-1] for e in entries if e["type"] != "directory"
        )

    def list_dirs(self, path: str) -> list[str]:
        """Names of the directories directly below ``path`` (empty if it does not exist)."""
        if self.local:
            with contextlib.suppress(FileNotFoundError), unreadable(self.shown, path):
                return sorted(e.name for e in os.scandir(path) if e.is_dir())
            return []
        try:
            with reaching(self.url, self.shown, path):
                entries = self.fs.ls(path, detail=True)
        except FileNotFoundError:
            return []
        return sorted(
            e["name"].rstrip("/").rsplit("/", 1)[-1] for e in entries if e["type"] == "directory"
        )
