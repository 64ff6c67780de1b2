"""Result objects of a harness run: nodes with phases, attempts and outputs."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from .pods import ERROR, FAILED, SUCCEEDED, Attempt

SKIPPED = "Skipped"
OMITTED = "Omitted"
__all__ = ["ERROR", "FAILED", "OMITTED", "SKIPPED", "SUCCEEDED", "Node", "WorkflowRun"]


@dataclasses.dataclass
class Node:
    """One node of the run: a task, a fan-out group, or one expanded child of a group."""

    name: str
    task: str
    template: str
    phase: str = ""
    message: str = ""
    attempts: list[Attempt] = dataclasses.field(default_factory=list)
    outputs: dict[str, str] = dataclasses.field(default_factory=dict)
    children: list[Node] = dataclasses.field(default_factory=list)
    is_group: bool = False

    @property
    def stdout(self) -> str:
        return self.attempts[-1].stdout if self.attempts else ""

    @property
    def stderr(self) -> str:
        return self.attempts[-1].stderr if self.attempts else ""

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            yield from child.walk()


@dataclasses.dataclass
class WorkflowRun:
    """The outcome: the workflow phase and the entrypoint DAG's task nodes by task name."""

    name: str
    uid: str
    phase: str
    message: str
    nodes: dict[str, Node]

    def __getitem__(self, task: str) -> Node:
        return self.nodes[task]

    def walk(self) -> Iterator[Node]:
        for node in self.nodes.values():
            yield from node.walk()

    def describe(self) -> str:
        """A readable account of the run, for assertion messages."""
        lines = [f"workflow {self.name}: {self.phase} {self.message}".rstrip()]
        for node in self.walk():
            lines.append(f"  {node.name}: {node.phase} {node.message}".rstrip())
            for attempt in node.attempts:
                if attempt.phase != SUCCEEDED:
                    tail = (
                        (attempt.stderr or attempt.stdout)[-2000:].strip().replace("\n", "\n      ")
                    )
                    lines.append(f"    attempt {attempt.number}: {attempt.phase} {attempt.message}")
                    if tail:
                        lines.append(f"      {tail}")
        return "\n".join(lines)
