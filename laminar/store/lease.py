"""One writer per execution on a local datastore: a lease with a heartbeat.

``laminar run`` holds ``<execution>/lease.json`` (owner, token, heartbeat time) while it runs,
and a thread rewrites the heartbeat every ``HEARTBEAT`` seconds. A second ``laminar run`` of
the same execution finds a live lease and stops with a message naming the holder; a lease whose
heartbeat is older than the timeout (the holder was killed, or its machine stopped) is taken
over, with a message. Reading and replacing the lease happens under ``flock`` on a sibling
lock file, so two processes never both take it over.

The heartbeat outlives transient failures (a disk full for a few seconds): a renewal that
fails is tried again at the next beat. Only when the lease is really lost (taken over, or not
renewed for as long as others wait before taking it over) does ``check()``, called before
every commit, stop the run with the reason. A lease file someone else wrote with the wrong
types is damaged, like one that is not JSON: it is taken over with a message.

Deployed tasks (``laminar task``) take no lease: the legs of one execution run concurrently by
design; there, exclusive commits (first writer wins) keep an execution consistent.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
from _thread import allocate_lock
from collections.abc import Callable, Iterator
from typing import Any

from laminar.errors import ConfigurationError, ExecutionError
from laminar.text import printable

#: Seconds between heartbeats, and after which a silent lease is stale (overridable for tests
#: and slow shared disks with ``$LAMINAR_LEASE_TIMEOUT``).
HEARTBEAT = 2.0
TIMEOUT = 30.0
ENV_LEASE_TIMEOUT = "LAMINAR_LEASE_TIMEOUT"

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows: the lease still works, without the lock
    fcntl = None  # type: ignore[assignment]


#: Held while the lock file is locked. A process forked then (``--workers``) would inherit
#: the locked descriptor and keep the lock until it exits, stalling the heartbeat: forks wait.
_FORK_GUARD = allocate_lock()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_FORK_GUARD.acquire,
        after_in_parent=_FORK_GUARD.release,
        after_in_child=_FORK_GUARD.release,
    )


def _hostname() -> str:
    """This machine's name, as ``socket.gethostname()`` gives it (without importing socket
    into every deployed task, which imports this module but takes no lease)."""
    if hasattr(os, "uname"):
        return os.uname().nodename
    import socket  # pragma: no cover - Windows

    return socket.gethostname()  # pragma: no cover


class ExecutionLeasedError(ExecutionError):
    """Another live process is writing this execution."""


class Lease:
    """The lease of one execution directory; use as a context manager around a run."""

    def __init__(self, path: str, execution: str, say: Callable[[str], None]) -> None:
        self.path = path
        self.execution = execution
        self.say = say
        self.timeout = _timeout()
        self.owner = f"pid {os.getpid()} on {_hostname()}"
        self.token = os.urandom(8).hex()
        #: Why the lease was lost ("" while it is held): ``check()`` stops the run with it.
        self.lost = ""
        import threading  # here, not at the top: deployed tasks import this module, never lease

        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Lease:
        if self._thread is None:
            self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def acquire(self) -> None:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        with self._locked():
            held = self._read()
            if held is not None and held.get("token") != self.token:
                self._take_over(held)
            self._write()
        import threading

        self._thread = threading.Thread(target=self._beat, name="laminar-lease", daemon=True)
        self._thread.start()

    def _take_over(self, held: dict[str, Any]) -> None:
        """Say why the lease ``held`` (by someone else) may be taken, or refuse."""
        heartbeat = held.get("heartbeat")
        owner = held.get("owner")
        holder = printable(owner) if isinstance(owner, str) else "an unknown process"
        if not isinstance(heartbeat, (int, float)) or not math.isfinite(heartbeat):
            why = "its lease file is damaged (no valid heartbeat time)"
        elif _dead(held):
            why = "that process has exited"
        else:
            age = time.time() - heartbeat
            if age < self.timeout:
                raise ExecutionLeasedError(
                    f"Execution {self.execution} is being written by {holder} (heartbeat "
                    f"{max(age, 0):.0f}s ago). Wait for that run to finish, or stop it; a "
                    f"lease silent for {self.timeout:.0f}s is taken over. Two writers of one "
                    f"execution could mix results of different runs."
                )
            why = f"its lease has been silent for {age:.0f}s (more than {self.timeout:.0f}s)"
        self.say(f"taking over execution {self.execution} from {holder}: {why}")

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._locked():
            held = self._read()
            if held is not None and held.get("token") == self.token:
                os.unlink(self.path)

    def _beat(self) -> None:
        interval = min(HEARTBEAT, self.timeout / 4)
        renewed = time.monotonic()
        while not self._stop.wait(interval):
            try:
                with self._locked():
                    held = self._read()
                    if held is None or held.get("token") != self.token:
                        self.lost = (
                            "it was taken over by another process while this run was stalled"
                        )
                        return
                    self._write()
                renewed = time.monotonic()
            except OSError as error:
                # Transient (a disk full for a moment): try again at the next beat, until
                # the lease has been silent as long as others wait before taking it over.
                silent = time.monotonic() - renewed
                if silent + interval >= self.timeout:
                    reason = error.strerror or type(error).__name__
                    self.lost = (
                        f"it could not be renewed for {silent:.0f}s ({reason}: {self.path}), "
                        f"so another process may take it over"
                    )
                    return

    def check(self) -> None:
        """Raise if the lease was lost (taken over after a stall, or not renewable)."""
        if self.lost:
            raise ExecutionLeasedError(
                f"The lease on execution {self.execution} was lost: {self.lost}. This run "
                f"stops so that two writers do not mix results; committed tasks are kept. "
                f"Resume with the same command once the other run (if any) has finished."
            )

    def _read(self) -> dict[str, Any] | None:
        try:
            with open(self.path, encoding="utf-8") as handle:
                held = json.load(handle)
        except FileNotFoundError:
            return None
        except ValueError:
            return {}  # damaged: treated as stale
        return held if isinstance(held, dict) else {}

    def _write(self) -> None:
        record = {
            "owner": self.owner,
            "token": self.token,
            "heartbeat": time.time(),
            "host": _hostname(),
            "pid": os.getpid(),
        }
        temporary = f"{self.path}.{self.token}"
        try:
            with open(temporary, "w", encoding="utf-8") as handle:
                json.dump(record, handle)
            os.replace(temporary, self.path)
        except OSError:
            with contextlib.suppress(OSError):  # a full disk must not keep a partial file
                os.unlink(temporary)
            raise

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        if fcntl is None:  # pragma: no cover
            yield
            return
        with _FORK_GUARD:
            descriptor = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX)
                yield
            finally:
                os.close(descriptor)


def _timeout() -> float:
    """``$LAMINAR_LEASE_TIMEOUT`` (seconds), else ``TIMEOUT``; anything but a positive finite
    number is an error naming the variable."""
    text = os.environ.get(ENV_LEASE_TIMEOUT, "").strip()
    try:
        timeout = float(text) if text else TIMEOUT
    except ValueError:
        timeout = math.nan
    if not (math.isfinite(timeout) and timeout > 0):
        raise ConfigurationError(
            f"{ENV_LEASE_TIMEOUT} must be a positive number of seconds (such as 30), not "
            f"{printable(text)!r}. Unset it for the default of {TIMEOUT:.0f}s."
        )
    return timeout


def _dead(held: dict[str, Any]) -> bool:
    """Whether the holder is a process of this machine that no longer exists (killed -9):
    then its lease is stale at once, and a resume need not wait for the timeout."""
    pid = held.get("pid")
    if held.get("host") != _hostname() or type(pid) is not int or not 0 < pid < 2**31:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False
