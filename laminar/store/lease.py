"""One writer per execution on a local datastore: a lease with a heartbeat.

``laminar run`` holds ``<execution>/lease.json`` (owner, token, heartbeat time) while it runs,
and a thread rewrites the heartbeat every ``HEARTBEAT`` seconds. A second ``laminar run`` of
the same execution finds a live lease and stops with a message naming the holder; a lease whose
heartbeat is older than the timeout (the holder was killed, or its machine stopped) is taken
over, with a message. Reading and replacing the lease happens under ``flock`` on a sibling
lock file, so two processes never both take it over.

Deployed tasks (``laminar task``) take no lease: the legs of one execution run concurrently by
design; there, exclusive commits (first writer wins) keep an execution consistent.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from laminar.errors import ExecutionError

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
_FORK_GUARD = threading.Lock()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_FORK_GUARD.acquire,
        after_in_parent=_FORK_GUARD.release,
        after_in_child=_FORK_GUARD.release,
    )


class ExecutionLeasedError(ExecutionError):
    """Another live process is writing this execution."""


class Lease:
    """The lease of one execution directory; use as a context manager around a run."""

    def __init__(self, path: str, execution: str, say: Callable[[str], None]) -> None:
        self.path = path
        self.execution = execution
        self.say = say
        self.timeout = float(os.environ.get(ENV_LEASE_TIMEOUT) or TIMEOUT)
        self.owner = f"pid {os.getpid()} on {socket.gethostname()}"
        self.token = os.urandom(8).hex()
        self.lost = False
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
                age = time.time() - float(held.get("heartbeat", 0))
                holder = held.get("owner", "an unknown process")
                if age < self.timeout and not _dead(held):
                    raise ExecutionLeasedError(
                        f"Execution {self.execution} is being written by {holder} (heartbeat "
                        f"{age:.0f}s ago). Wait for that run to finish, or stop it; a lease "
                        f"silent for {self.timeout:.0f}s is taken over. Two writers of one "
                        f"execution could mix results of different runs."
                    )
                why = (
                    "that process has exited"
                    if _dead(held)
                    else f"its lease has been silent for {age:.0f}s (more than {self.timeout:.0f}s)"
                )
                self.say(f"taking over execution {self.execution} from {holder}: {why}")
            self._write()
        self._thread = threading.Thread(target=self._beat, name="laminar-lease", daemon=True)
        self._thread.start()

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
        while not self._stop.wait(interval):
            with self._locked():
                held = self._read()
                if held is None or held.get("token") != self.token:
                    self.lost = True  # taken over after we stalled: stop writing
                    return
                self._write()

    def check(self) -> None:
        """Raise if another process took the lease over (this one stalled past the timeout)."""
        if self.lost:
            raise ExecutionLeasedError(
                f"The lease on execution {self.execution} was taken over by another process "
                f"while this run was stalled; this run stops so the two do not mix results."
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
            "host": socket.gethostname(),
            "pid": os.getpid(),
        }
        temporary = f"{self.path}.{self.token}"
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(record, handle)
        os.replace(temporary, self.path)

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


def _dead(held: dict[str, Any]) -> bool:
    """Whether the holder is a process of this machine that no longer exists (killed -9):
    then its lease is stale at once, and a resume need not wait for the timeout."""
    if held.get("host") != socket.gethostname() or not isinstance(held.get("pid"), int):
        return False
    try:
        os.kill(held["pid"], 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False
