"""What happened in each attempt of a task: its error, and what it printed.

A task's manifest says how it ended (finished, skipped, caught) and nothing more; a failed
attempt commits no manifest at all. So every attempt that failed, or whose error its layer's
``Catch`` caught, or that printed anything, leaves an *attempt record*: the task, the attempt
number, how it ended, the exception's type, message and the user's traceback, and its stdout
and stderr (each capped at ``LOG_LIMIT`` bytes, with a note where output was cut).

Records are additive files next to the layer's commits, never read by a running flow::

    <execution>/<Layer>/attempts/<task>.<unique>.json           one attempt (a failure)
    <execution>/<Layer>/attempts/<first>-<last>.<unique>.json   consecutive tasks of a leg

Each file is written atomically under a name no other writer uses, and sealed like a commit
(``integrity.Seal``: a checksum, and a signature with ``$LAMINAR_SIGNING_KEY``); it holds JSON
(never pickle), so reading a record runs no code. A damaged or unsigned record is reported by
the reader (``laminar show``, ``laminar logs``) and skipped, never fatal.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from laminar.errors import ArtifactError
from laminar.store.datastore import unique_name

if TYPE_CHECKING:
    from laminar.store.objects import Objects

#: How an attempt ended, beyond the manifest's statuses: it raised, and nothing caught it.
FAILED = "failed"
#: Bytes of stdout (and of stderr) an attempt record keeps; the middle of longer output is cut.
LOG_LIMIT = 1024 * 1024
ATTEMPTS = "attempts"
_NAME = re.compile(r"(main|\d+)(?:-(\d+))?\.[^/]+\.json")


@dataclass
class AttemptRecord:
    """One attempt of one task: how it ended, its error and its output."""

    layer: str
    task: str
    attempt: int
    #: ``finished``, ``failed`` or ``caught``.
    status: str
    #: The exception's type (``ValueError``, ``mymodule.Invalid``), message and the user's
    #: traceback; empty when it raised nothing.
    error_type: str = ""
    message: str = ""
    traceback: str = ""
    stdout: str = ""
    stderr: str = ""
    started: float = 0.0
    ended: float = field(default_factory=time.time)

    @property
    def error(self) -> str:
        """``Type: message``, as a one-line summary."""
        return f"{self.error_type}: {self.message}" if self.error_type else ""

    @property
    def label(self) -> str:
        return self.layer if self.task == "main" else f"{self.layer}[{self.task}]"


def cut(data: bytes, limit: int = LOG_LIMIT) -> bytes:
    """``data``, its middle replaced by a note when longer than ``limit`` bytes: the first
    quarter and the last three quarters are kept (an error is usually at the end)."""
    if len(data) <= limit:
        return data
    head, tail = limit // 4, limit - limit // 4
    return kept(data[:head], data[-tail:], len(data))


def kept(head: bytes, tail: bytes, total: int) -> bytes:
    """The head and tail of ``total`` bytes of output, with a note saying what was cut."""
    note = (
        f"\n[laminar: {total - len(head) - len(tail)} bytes of output cut here; the log keeps "
        f"the first {len(head)} and the last {len(tail)} bytes]\n"
    ).encode()
    return head + note + tail


def directory(objects: Objects, layer: str) -> str:
    return f"{objects.layout.layer_dir(layer)}/{ATTEMPTS}"


def write_records(objects: Objects, records: list[AttemptRecord]) -> None:
    """Write the records of one layer's consecutive tasks as one sealed file (one write)."""
    if not records:
        return
    layer = records[0].layer
    first, last = records[0].task, records[-1].task
    span = first if first == last else f"{first}-{last}"
    # ASCII: text with lone surrogates (bytes that were not UTF-8) is stored escaped.
    payload = json.dumps([asdict(r) for r in records]).encode("ascii")
    path = f"{directory(objects, layer)}/{span}.{unique_name()}.json"
    objects.store.write_atomic(path, objects.seal.seal(payload))


@dataclass
class Records:
    """The attempt records of one layer, and what could not be read (and why)."""

    records: list[AttemptRecord]
    problems: list[str]

    def of(self, task: str) -> list[AttemptRecord]:
        return sorted((r for r in self.records if r.task == task), key=_order)

    def last_failures(self, committed: Iterable[str]) -> list[AttemptRecord]:
        """The last failed attempt of each task that has no commit: why the layer stopped."""
        done = set(committed)
        last: dict[str, AttemptRecord] = {}
        for record in sorted(self.records, key=_order):
            last[record.task] = record
        failed = [r for t, r in last.items() if r.status == FAILED and t not in done]
        return sorted(failed, key=_order)


def read_records(objects: Objects, layer: str, task: str | None = None) -> Records:
    """The attempt records of ``layer`` (of one ``task`` only, when given), oldest first."""
    base = directory(objects, layer)
    names = [n for n in objects.store.list_files(base) if _holds(n, task)]
    paths = [f"{base}/{n}" for n in names]
    found: list[AttemptRecord] = []
    problems: list[str] = []
    for path, data in zip(paths, objects.store.read_many(paths), strict=True):
        if data is None:
            continue
        try:
            found.extend(_parse(objects, data, path))
        except (ArtifactError, ValueError, KeyError, TypeError, AttributeError) as error:
            problems.append(f"the attempt record {path} cannot be read: {error}")
    if task is not None:
        found = [r for r in found if r.task == task]
    return Records(sorted(found, key=_order), problems)


def _holds(name: str, task: str | None) -> bool:
    match = _NAME.fullmatch(name)
    if match is None:
        return False
    if task is None or match[1] == task:
        return True
    if not (task.isdigit() and match[1].isdigit() and match[2]):
        return False
    return int(match[1]) <= int(task) <= int(match[2])


def _parse(objects: Objects, data: bytes, path: str) -> Iterator[AttemptRecord]:
    what = f"The attempt record {path}"
    payload = objects.seal.unseal(data, what, "It is only a record; the results are unaffected.")
    raws = json.loads(bytes(payload))
    if not isinstance(raws, list):
        raise ValueError("not a list of records")
    for raw in raws:
        text = {k: str(raw.get(k, "")) for k in _TEXT}
        yield AttemptRecord(
            attempt=int(raw["attempt"]),
            started=float(raw.get("started", 0)),
            ended=float(raw.get("ended", 0)),
            **text,
        )


_TEXT = ("layer", "task", "status", "error_type", "message", "traceback", "stdout", "stderr")


def _order(record: AttemptRecord) -> tuple[int, str, int, float]:
    number = int(record.task) if record.task.isdigit() else -1
    return number, record.task, record.attempt, record.ended
