"""The datastore's remote side: opening an fsspec URL, exclusive PUTs, and failures to reach it.

An unknown scheme, a missing driver, an endpoint that does not answer or a scheme that cannot
write (``http://``) would otherwise surface as a traceback from fsspec, s3fs or aiohttp. Every
remote call goes through ``reaching``, which turns such failures into one-line
``DatastoreUnreachableError``s naming the datastore (redacted) and the fix, while the errors
the store itself acts on pass through: a missing file, an existing one, a refused write.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from laminar.errors import LaminarError
from laminar.store.files import AlreadyCommitted
from laminar.store.refusals import refused

if TYPE_CHECKING:
    import fsspec


class DatastoreUnreachableError(LaminarError):
    """The datastore's URL names no usable file system, or it did not answer."""


def open_url(url: str, shown: str) -> tuple[fsspec.AbstractFileSystem, str]:
    """The file system and root path of the fsspec URL ``url`` (``shown``: it, redacted)."""
    import fsspec  # only remote datastores pay for it

    try:
        fs, path = fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as error:
        hint = ""
        if url.startswith("s3://"):
            hint = " Install S3 support with: pip install 'laminar-compiler[s3]'."
        text = str(error).replace(url, shown)
        raise DatastoreUnreachableError(
            f"Cannot open datastore {shown!r}: {text}. Use a local path or a URL such as "
            f"s3://bucket/prefix (--datastore or $LAMINAR_DATASTORE).{hint}"
        ) from None
    return fs, path


@contextlib.contextmanager
def reaching(url: str, shown: str, path: str, size: int = 0) -> Iterator[None]:
    """Around one remote call on ``path``: its failures as errors a user can act on."""
    try:
        yield
    except (FileNotFoundError, FileExistsError, AlreadyCommitted, LaminarError):
        raise
    except PermissionError as error:
        raise refused(error, url, path, size) from None
    except Exception as error:
        detail = " ".join(str(error).replace(url, shown).split())[:200]
        raise DatastoreUnreachableError(
            f"Cannot reach the datastore {shown} ({type(error).__name__}: {detail}) for "
            f"{path}. Check the URL, the network and the credentials, then run the same "
            f"command again: committed work is kept."
        ) from None


def put(fs: Any, path: str, data: bytes, exclusive: bool) -> None:
    """Write ``data`` at ``path`` in one PUT; ``exclusive``: ``AlreadyCommitted`` when it
    exists (``If-None-Match: *``; stores without conditional writes: last writer wins)."""
    if not exclusive:
        fs.pipe_file(path, data)
        return
    try:
        fs.pipe_file(path, data, mode="create")
    except TypeError:  # an fsspec implementation without exclusive writes: last one wins
        fs.pipe_file(path, data)
    except FileExistsError:
        raise AlreadyCommitted(path) from None
    except OSError as error:  # s3fs reports a failed precondition (412) as an OSError
        if "PreconditionFailed" in str(error) or "412" in str(error):
            raise AlreadyCommitted(path) from None
        raise
