"""The user's part of a traceback: errors point at the user's own lines, never laminar's.

Used where user code runs under laminar (a flow file being imported, a layer's ``__call__``
and hooks): laminar's frames above the user's code are how it got there, and its frames below
(an ``Accessor``, a datastore read that raised ``NotFinishedError``) are where the user's
request was refused; neither is something the user can change.
"""

from __future__ import annotations

import contextlib
import os
import traceback
from pathlib import Path

_PACKAGE = str(Path(__file__).resolve().parent) + os.sep
_CONTEXTLIB = contextlib.__file__


def users(filename: str) -> bool:
    """Whether a frame in ``filename`` is the user's: not laminar's own, not importlib's or
    contextlib's plumbing, not a generated ``<string>`` (a dataclass ``__init__``)."""
    if filename.startswith("<") or filename == _CONTEXTLIB or "importlib" in filename:
        return False
    return not str(Path(filename).resolve()).startswith(_PACKAGE)


def user_frames(error: BaseException) -> str:
    """``error``'s traceback lines in the user's files, then the error itself."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if users(f.filename)]
    lines = traceback.format_list(frames) + traceback.format_exception_only(type(error), error)
    return "".join(lines)
