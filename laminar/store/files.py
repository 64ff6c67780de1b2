"""Local files written and read with bare ``os`` calls: every system call counts when a run
commits ten thousand small manifests (``open()`` adds fstat/ioctl/lseek calls), and a failed
write must never leave a partial file behind (it would keep a full disk full)."""

from __future__ import annotations

import contextlib
import errno
import os

CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)
READ = os.O_RDONLY | getattr(os, "O_BINARY", 0)
#: Errors of file systems without hard links: first-writer-wins falls back to check-then-rename.
_NO_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK}


class AlreadyCommitted(Exception):
    """An exclusive write found the file already there: another writer committed first."""


def write_file(path: str, data: bytes) -> None:
    descriptor = os.open(path, CREATE, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view) :]
    except OSError:
        os.close(descriptor)
        discard(path)  # never leave a partial file (it would keep a full disk full)
        raise
    os.close(descriptor)


def link_exclusive(temporary: str, path: str) -> None:
    """Move ``temporary`` to ``path`` unless ``path`` exists (then ``AlreadyCommitted``)."""
    try:
        os.link(temporary, path)
    except FileExistsError:
        os.unlink(temporary)
        raise AlreadyCommitted(path) from None
    except OSError as error:
        if error.errno not in _NO_LINKS:
            raise
        # A file system without hard links (some network and FUSE mounts): check, then
        # rename. Two writers within the same instant could both pass the check; the lease
        # keeps local runs apart, and docs/datastore.md says so.
        if os.path.exists(path):
            os.unlink(temporary)
            raise AlreadyCommitted(path) from None
        os.replace(temporary, path)
        return
    os.unlink(temporary)


def discard(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def read_path(path: str, start: int = 0, size: int = -1) -> bytes:
    """The bytes of ``path`` (``size`` bytes from ``start``; all of it when ``size < 0``)."""
    descriptor = os.open(path, READ)
    try:
        return read_all(descriptor) if size < 0 else pread_all(descriptor, size, start)
    finally:
        os.close(descriptor)


def read_all(descriptor: int) -> bytes:
    # Small files (manifests) take one read plus the empty read that confirms the end.
    parts = []
    while part := os.read(descriptor, 1 << 20):
        parts.append(part)
    return b"".join(parts)


def pread_all(descriptor: int, size: int, offset: int) -> bytes:
    parts = []
    while size > 0:
        part = os.pread(descriptor, size, offset)
        if not part:
            break
        parts.append(part)
        size -= len(part)
        offset += len(part)
    return b"".join(parts)
