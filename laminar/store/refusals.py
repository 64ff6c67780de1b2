"""Why the disk refused a write, in words a user can act on (full, read-only, not permitted).

The datastore turns the ``OSError`` of a failed write into one of these errors, naming the
file, the bytes it needed and the free space, and how to go on: committed work is kept, so
running the same command again after fixing the disk resumes.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator

from laminar.contract import redact_url
from laminar.errors import LaminarError


class DatastoreWriteError(LaminarError):
    """The datastore refused a write: full, read-only, or not permitted."""


class DatastoreFullError(DatastoreWriteError):
    """No space left where the datastore lives (ENOSPC / EDQUOT)."""


_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_DENIED = {errno.EROFS, errno.EACCES, errno.EPERM}


def refused(error: OSError, url: str, path: str, size: int) -> Exception:
    """A clear error for a write of ``size`` bytes to ``path`` that failed with ``error``
    (``error`` itself when it is none of the failures above: a bug to report, not hide)."""
    url = redact_url(url)
    if error.errno in _FULL:
        free = _free_bytes(path)
        shown = f"; {free:,} bytes free" if free is not None else ""
        return DatastoreFullError(
            f"The datastore {url} is full: no space left to write {path} ({size:,} bytes"
            f"{shown}). Free at least that much space (more for the rest of the run), then "
            f"run the same command again: committed work is kept."
        )
    if error.errno in _DENIED or isinstance(error, PermissionError):
        reason = os.strerror(error.errno).lower() if error.errno else "permission denied"
        return DatastoreWriteError(
            f"Cannot write to the datastore {url} ({reason}: {path}). Choose a writable one "
            f"with --datastore or $LAMINAR_DATASTORE, or fix its permissions."
        )
    if error.errno in (errno.ENOTDIR, errno.EEXIST, errno.EISDIR):  # something in the way
        return DatastoreWriteError(f"Cannot write {path} in the datastore {url}: {_IN_THE_WAY}")
    if error.errno == errno.ENAMETOOLONG:
        return DatastoreWriteError(
            f"The datastore path {path} is too long for this file system. Use a datastore "
            f"directory with a shorter path (--datastore)."
        )
    return error


class DatastoreReadError(LaminarError):
    """A local datastore path cannot be read: something is in the way, or access is denied."""


_IN_THE_WAY = (
    "a file is in the way where a directory must be, or a directory where a file must be. "
    "Move it away, or choose another --datastore."
)


@contextlib.contextmanager
def unreadable(url: str, path: str) -> Iterator[None]:
    """Around a local read of ``path``: a missing file passes (callers act on it); any other
    failure is a ``DatastoreReadError`` naming the path and the fix, not a traceback."""
    try:
        yield
    except FileNotFoundError:
        raise
    except OSError as error:
        if error.errno in (errno.ENOTDIR, errno.EISDIR):
            raise DatastoreReadError(
                f"Cannot read {path} in the datastore {url}: {_IN_THE_WAY}"
            ) from None
        reason = os.strerror(error.errno).lower() if error.errno else type(error).__name__
        raise DatastoreReadError(
            f"Cannot read {path} in the datastore {url} ({reason}). Fix its permissions, or "
            f"choose another --datastore."
        ) from None


def _free_bytes(path: str) -> int | None:
    directory = os.path.dirname(path)
    while directory and not os.path.isdir(directory):
        directory = os.path.dirname(directory)
    try:
        import shutil  # here: only a refused write asks how full the disk is

        return shutil.disk_usage(directory or ".").free
    except OSError:
        return None
