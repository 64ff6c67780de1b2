"""The records a commit writes: a task's manifest and a ForEach layer's plan.

Plain data, shared by ``commits`` (which seals and writes them) and the runtime (which builds
them); how they are encoded on disk lives in ``commits``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from laminar.errors import ExecutionError

#: The task name of a layer without ForEach.
MAIN = "main"

#: How a task ended. Only a finished task has attributes; the others carry a reason.
FINISHED = "finished"
#: An entry hook returned False, or a layer before it did not finish.
SKIPPED = "skipped"
#: It raised an exception its layer's ``Catch`` lists.
CAUGHT = "caught"


@dataclass(frozen=True)
class PlanRecord:
    """A ForEach layer's committed plan: how many tasks, split into how many legs, and how."""

    count: int
    legs: int
    #: One entry per grid axis, first varying fastest: (size, ((layer, attribute, mapped), ...)).
    axes: tuple[tuple[int, tuple[tuple[str, str, bool], ...]], ...] = ()
    #: Why the whole layer was skipped (it then has no tasks); empty when it runs.
    skipped: str = ""
    #: Whether some tasks may not finish (entry hook, Catch): the join reads which did.
    sparse: bool = False

    def leg_indices(self, leg: int) -> range:
        if not 0 <= leg < max(self.legs, 1) or self.legs == 0:
            raise ExecutionError(f"leg {leg} is out of range: this plan has {self.legs} legs.")
        return range(leg * self.count // self.legs, (leg + 1) * self.count // self.legs)

    def to_json(self) -> bytes:
        axes = [[size, [list(p) for p in params]] for size, params in self.axes]
        raw: dict[str, Any] = {"count": self.count, "legs": self.legs, "axes": axes}
        if self.skipped:
            raw["skipped"] = self.skipped
        if self.sparse:
            raw["sparse"] = True
        return json.dumps(raw).encode()

    @classmethod
    def from_json(cls, data: bytes | str) -> PlanRecord:
        return cls.from_dict(json.loads(data))

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> PlanRecord:
        axes = tuple(
            (int(size), tuple((str(p[0]), str(p[1]), bool(p[2])) for p in params))
            for size, params in raw["axes"]
        )
        return cls(
            count=int(raw["count"]),
            legs=int(raw["legs"]),
            axes=axes,
            skipped=str(raw.get("skipped", "")),
            sparse=bool(raw.get("sparse", False)),
        )


@dataclass
class Manifest:
    """One task's commit: its attributes, or why it did not finish."""

    layer: str
    task: str
    attributes: dict[str, tuple[str, Any]] = field(default_factory=dict)
    #: ``FINISHED``, ``SKIPPED`` or ``CAUGHT``.
    status: str = FINISHED
    #: Why it did not finish, for messages and ``laminar show``.
    reason: str = ""
    #: The execution whose committed task this one was served from (the cache), or "".
    cached_from: str = ""
    #: The cache key the task ran under (a task of a cached layer), or "": a cache entry is
    #: served only if the manifest it points at names its key (a task run again, ``--rerun``,
    #: has another, and its old entry is then a miss).
    cache_key: str = ""

    @property
    def finished(self) -> bool:
        return self.status == FINISHED
