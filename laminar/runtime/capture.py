"""What a task prints, kept for its attempt record while it still reaches the terminal.

Output reaches a process's stdout and stderr by two roads: Python's ``sys.stdout`` and
``sys.stderr`` objects (``print``, and anything that replaced them: Airflow, Jupyter, the
executor's per-task buffers), and the file descriptors 1 and 2 themselves (a subprocess, a C
library, a ``logging`` handler made at import time, which holds the original stream object).
During a task both are captured:

* descriptors 1 and 2 point at *spool files* (unlinked temporary files, one per stream) and a
  thread copies what is appended there to the original descriptors every ``INTERVAL``
  seconds, so the orchestrator's log stays live. A regular file never blocks a writer, so a
  C call that prints while holding the GIL cannot deadlock against the copying thread (a pipe
  could: it blocks when full). When the task ends, the rest is copied at once and the task's
  bytes are read back from the spool by offset: no synchronisation with the thread is needed.
* when ``sys.stdout`` (``sys.stderr``) is not descriptor 1 (2), it is wrapped for the task by
  a tee that keeps a copy of what is written through it.

(About 320 lines, over the usual 300: the streams, the window and the tees are one mechanism
whose invariants -- offsets, descriptors, the copying thread's lock -- are read together.)

One spool per process (a forked ``--workers`` process makes its own); a window inside a window
(a flow run inside a layer) captures nothing more: the outer task keeps it all. Any OS error
while setting up (no temporary directory, descriptors closed) turns capturing off for the
task, never the task itself.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from typing import Any, TextIO

from laminar.store.attempts import LOG_LIMIT, cut, kept

#: Seconds between two copies of the spool to the terminal while a task runs.
INTERVAL = 0.05
#: A spool longer than this is emptied before the next task (when all of it was copied).
TRUNCATE = 16 * 1024 * 1024


class Output:
    """What one task printed, filled in when its capture window closes."""

    def __init__(self) -> None:
        self.stdout = ""
        self.stderr = ""


class _Stream:
    """One of descriptors 1 and 2 while captured: its spool and where its copies go."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.spool = _appending_spool()
        self.copied = 0  # bytes of the spool already copied to ``target``
        self.target: int | None = None  # a duplicate of the original descriptor, in a window

    def open(self) -> None:
        """Point the descriptor at the spool (emptied first when long and all copied)."""
        target = os.dup(self.fd)
        try:
            os.dup2(self.spool, self.fd)
        except OSError:
            os.close(target)
            raise
        self.target = target
        size = _size(self.spool)
        if size > TRUNCATE and self.copied == size:
            os.ftruncate(self.spool, 0)  # bounded: the spool holds about one window
            self.copied = 0

    def close(self) -> None:
        """Give the descriptor back and copy the rest of the spool to it."""
        assert self.target is not None
        os.dup2(self.target, self.fd)
        self.copy()
        os.close(self.target)
        self.target = None

    def copy(self) -> None:
        """Copy what was appended since the last call to the original descriptor."""
        end = _size(self.spool)
        while self.copied < end:
            data = os.pread(self.spool, min(end - self.copied, 1 << 20), self.copied)
            if not data:
                break
            if self.target is not None:
                with contextlib.suppress(OSError):  # a closed terminal loses the copy only
                    os.write(self.target, data)
            self.copied += len(data)

    def take(self, start: int, end: int) -> bytes:
        """Bytes ``start:end`` of the spool: all of them, or the head and the tail kept."""
        size = end - start
        if size == 0:
            return b""
        if size <= LOG_LIMIT:
            return os.pread(self.spool, size, start)
        head, tail = LOG_LIMIT // 4, LOG_LIMIT - LOG_LIMIT // 4
        return kept(os.pread(self.spool, head, start), os.pread(self.spool, tail, end - tail), size)


def _appending_spool() -> int:
    """An unlinked temporary file opened for appending: a truncated spool is written from its
    start again, whoever holds a descriptor of it."""
    directory = os.environ.get("TMPDIR") or "/tmp"
    if hasattr(os, "O_TMPFILE"):  # Linux: never has a name (and no tempfile import)
        try:
            return os.open(directory, os.O_TMPFILE | os.O_RDWR | os.O_APPEND, 0o600)
        except OSError:
            pass  # a file system without it: a named file, unlinked at once
    import fcntl
    import tempfile

    handle, path = tempfile.mkstemp(prefix="laminar-output-")
    os.unlink(path)
    fcntl.fcntl(handle, fcntl.F_SETFL, fcntl.fcntl(handle, fcntl.F_GETFL) | os.O_APPEND)
    return handle


class _Spool:
    """The spools of one process and the thread that copies them to the terminal."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.streams = (_Stream(1), _Stream(2))
        self.lock = threading.Lock()
        #: Whether descriptors 1 and 2 point at the spools now, and whether a task is marked.
        self.active = False
        self.in_task = False
        thread = threading.Thread(target=self._copy_loop, name="laminar-output", daemon=True)
        thread.start()

    def _copy_loop(self) -> None:
        event = threading.Event()
        while not event.wait(INTERVAL):
            with self.lock:
                if self.active:
                    for stream in self.streams:
                        stream.copy()

    def open(self) -> bool:
        """Point descriptors 1 and 2 at the spools (a leg of tasks, or one task); False, with
        nothing changed, where that fails (a process started with descriptor 1 closed)."""
        for handle in (sys.stdout, sys.stderr):
            _flush(handle)
        with self.lock:
            opened: list[_Stream] = []
            try:
                for stream in self.streams:
                    stream.open()
                    opened.append(stream)
            except OSError:
                for stream in opened:
                    stream.close()
                return False
            self.active = True
        return True

    def close(self) -> None:
        for handle in (sys.stdout, sys.stderr):
            _flush(handle)
        with self.lock:
            self.active = False
            for stream in self.streams:
                stream.close()


class _Tee:
    """``sys.stdout``/``sys.stderr`` when it is not the descriptor itself: writes go through,
    and a copy (at most ``LOG_LIMIT`` characters of head and tail) is kept."""

    def __init__(self, wrapped: TextIO) -> None:
        self._wrapped = wrapped
        self._parts: list[str] = []
        self._size = 0

    def write(self, text: str) -> int:
        self._parts.append(text)
        self._size += len(text)
        if self._size > 4 * LOG_LIMIT:  # keep memory bounded: head and tail are what is kept
            joined = "".join(self._parts)
            self._parts = [joined[:LOG_LIMIT], joined[-2 * LOG_LIMIT :]]
            self._size = sum(len(p) for p in self._parts)
        return self._wrapped.write(text)

    def text(self) -> str:
        return "".join(self._parts)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wrapped, name)


class _Tees:
    """Wraps ``sys.stdout`` and ``sys.stderr`` in ``_Tee``s where they are not descriptors."""

    def __init__(self) -> None:
        self.text = ["", ""]
        self._tees: list[_Tee | None] = [None, None]

    def __enter__(self) -> None:
        for k, (name, fd) in enumerate((("stdout", 1), ("stderr", 2))):
            current = getattr(sys, name)
            if current is not None and _descriptor(current) != fd:
                tee = _Tee(current)
                self._tees[k] = tee
                setattr(sys, name, tee)

    def __exit__(self, *exc: object) -> None:
        for k, name in enumerate(("stdout", "stderr")):
            tee = self._tees[k]
            if tee is None:
                continue
            self.text[k] = tee.text()
            if getattr(sys, name) is tee:
                setattr(sys, name, tee._wrapped)


def _text(through_python: str, through_descriptor: bytes) -> str:
    if not through_python and not through_descriptor:
        return ""
    data = cut(through_python.encode("utf-8", "replace")) + through_descriptor
    return data.decode("utf-8", errors="replace")


def _descriptor(handle: Any) -> int | None:
    try:
        return int(handle.fileno())
    except (AttributeError, OSError, ValueError):
        return None


def _flush(handle: Any) -> None:
    try:  # (not contextlib.suppress: every task pays for this)
        handle.flush()
    except Exception:  # None, closed, or a stream without flush: nothing to flush
        return


_SPOOL: _Spool | None = None
#: The process in which a spool could not be made (no writable temporary directory, no
#: ``pread``): it runs its tasks without capturing, and does not try again for each task.
_UNAVAILABLE = 0


def _spool() -> _Spool | None:
    """This process's spool, made on first use (a forked worker makes its own)."""
    global _SPOOL, _UNAVAILABLE
    pid = os.getpid()
    if _SPOOL is not None and _SPOOL.pid == pid:
        return _SPOOL
    if pid == _UNAVAILABLE or not hasattr(os, "pread"):
        return None
    try:
        _SPOOL = _Spool()
    except (OSError, ImportError):
        _UNAVAILABLE = pid
        return None
    return _SPOOL


@contextlib.contextmanager
def capturing() -> Iterator[None]:
    """Point descriptors 1 and 2 at the spools for the tasks run inside (a leg): each task
    then pays two ``fstat`` calls, not the redirection. Nested: does nothing more."""
    spool = _spool()
    if spool is None or spool.active or not spool.open():
        yield
        return
    try:
        yield
    finally:
        spool.close()


class captured:  # used like a function: ``with captured() as output``
    """Capture what the code inside prints (see the module's docstring); the ``Output`` is
    filled in on leaving. Inside a task already, or where capturing cannot be set up, it
    captures nothing. (A class, not a generator: every task of a fan-out pays for it.)"""

    def __init__(self) -> None:
        self.output = Output()
        self.spool = _spool()
        self.window = False  # whether this task opened the window (no leg did)
        self.starts: list[int] = []
        self.tees = _Tees()

    def __enter__(self) -> Output:
        spool = self.spool
        if spool is None or spool.in_task:
            self.spool = None
            return self.output
        if not spool.active:
            if not spool.open():
                self.spool = None
                return self.output
            self.window = True
        else:
            for handle in (sys.stdout, sys.stderr):
                _flush(handle)
        self.starts = [_size(stream.spool) for stream in spool.streams]
        spool.in_task = True
        self.tees.__enter__()
        return self.output

    def __exit__(self, *exc: object) -> None:
        spool = self.spool
        if spool is None:
            return
        self.tees.__exit__()
        spool.in_task = False
        for handle in (sys.stdout, sys.stderr):
            _flush(handle)
        out, err = (
            stream.take(start, _size(stream.spool))
            for stream, start in zip(spool.streams, self.starts, strict=True)
        )
        self.output.stdout = _text(self.tees.text[0], out)
        self.output.stderr = _text(self.tees.text[1], err)
        if self.window:
            spool.close()


def _size(descriptor: int) -> int:
    """The size of a spool: its end (``lseek`` costs less than ``fstat``; writers append)."""
    return os.lseek(descriptor, 0, os.SEEK_END)
