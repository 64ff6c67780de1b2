"""Execution of one DAG template: dependency logic, `when`, fan-out expansion, phase assessment.

The order is Argo's (`executeDAGTask` in workflow/controller/dag.go): `depends` (else
Omitted), then `when` (false: Skipped, `when '<substituted>' evaluated false`), then the
fan-out's expansion (none: Skipped, `Skipped, empty params`). As in Argo, a fan-out whose
`when` is false expands lazily: if its items cannot be computed (they read an output of a
Skipped task) it is Skipped with no children; if they can, each child is Skipped by the
`when` and the group Succeeds. Everywhere else, reading an output of a task that was Skipped,
Omitted or never ran raises `SkippedOutputError` (Argo would leave the tag unresolved).
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from . import templating
from .conditions import SkippedOutputError, evaluate_when
from .nodes import ERROR, FAILED, OMITTED, SKIPPED, SUCCEEDED, Node

if TYPE_CHECKING:
    from .harness import Run

_UNSUPPORTED_TASK = ("onExit", "hooks", "templateRef", "inline")
_DONE = (SUCCEEDED, FAILED, ERROR)


class Dag:
    """Runs the tasks of `template` in a topological order and sets `node`'s phase."""

    def __init__(self, run: Run, template: dict[str, Any], scope: dict[str, Any], node: Node):
        self.run = run
        self.template = template
        self.scope = scope
        self.node = node
        dag = template["dag"]
        if "target" in dag:
            raise NotImplementedError(f"template {template['name']!r}: dag.target")
        self.tasks: dict[str, dict[str, Any]] = {t["name"]: t for t in dag["tasks"]}
        self.fail_fast = dag.get("failFast", True)
        self.logic = {name: self._logic(task) for name, task in self.tasks.items()}
        self.deps = {
            name: {t for t, _ in templating.depends_operands(logic)} if logic else set()
            for name, logic in self.logic.items()
        }
        self.nodes: dict[str, Node] = {}

    def _logic(self, task: dict[str, Any]) -> str:
        """The task's `depends` string; `dependencies` converted as Argo converts them."""
        if "depends" in task:
            return str(task["depends"])
        parts = []
        for dep in task.get("dependencies", []):
            continue_on = self.tasks[dep].get("continueOn", {})
            extra = [
                r for r, k in (("Failed", "failed"), ("Errored", "error")) if continue_on.get(k)
            ]
            results = ["Succeeded", "Skipped", "Daemoned", *extra]
            parts.append(
                dep if not extra else "(" + " || ".join(f"{dep}.{r}" for r in results) + ")"
            )
        return " && ".join(parts)

    def execute(self) -> None:
        """Run in waves: every task ready at the same moment starts (here: one after the
        other, in list order) before failFast looks at the DAG again, as Argo's controller
        starts all ready tasks in one reconciliation."""
        pending = list(self.tasks)
        while pending:
            ready = [t for t in pending if self.deps[t] <= set(self.nodes)]
            if not ready:
                self.node.phase, self.node.message = ERROR, f"dependency cycle among {pending}"
                return
            for name in ready:
                pending.remove(name)
                self.nodes[name] = self._task(self.tasks[name])
                self.node.children.append(self.nodes[name])
            if self.fail_fast and self._failure() is not None:
                break
        failure = self._failure()
        self.node.phase = failure[1] if failure is not None else SUCCEEDED
        if failure is not None:
            self.node.message = f"branch of task {failure[0]!r} {failure[1].lower()}"
        self._outputs()

    def _failure(self) -> tuple[str, str] | None:
        """(task, phase) of the first target whose branch failed (Argo's assessDAGPhase)."""
        branch: dict[str, str] = {}

        def phase_of(name: str) -> str:
            if name not in branch:
                node = self.nodes[name]
                if node.phase in _DONE:
                    branch[name] = node.phase
                else:  # Skipped/Omitted nodes inherit their parents' phase, failures first
                    parents = [phase_of(d) for d in sorted(self.deps[name]) if d in self.nodes]
                    bad = [p for p in parents if p in (FAILED, ERROR)]
                    branch[name] = bad[0] if bad else SUCCEEDED
            return branch[name]

        depended = set().union(*self.deps.values()) if self.deps else set()
        for name in self.tasks:
            if name in depended or name not in self.nodes:
                continue
            phase = phase_of(name)
            continue_on = self.tasks[name].get("continueOn", {})
            tolerated = (phase == FAILED and continue_on.get("failed")) or (
                phase == ERROR and continue_on.get("error")
            )
            if phase in (FAILED, ERROR) and not tolerated:
                return name, phase
        return None

    def _result(self, task: str, result: str) -> bool:
        node = self.nodes[task]
        children = node.children if node.is_group else []
        return {
            "Succeeded": node.phase == SUCCEEDED,
            "Failed": node.phase == FAILED,
            "Errored": node.phase == ERROR,
            "Skipped": node.phase == SKIPPED,
            "Omitted": node.phase == OMITTED,
            "Daemoned": False,
            "AnySucceeded": any(c.phase == SUCCEEDED for c in children),
            "AllFailed": bool(children) and all(c.phase == FAILED for c in children),
        }[result]

    def _scope(self) -> dict[str, Any]:
        scope = dict(self.scope)
        for name, node in self.nodes.items():
            prefix = f"tasks.{name}"
            scope[f"{prefix}.status"] = node.phase
            scope[f"{prefix}.id"] = node.name
            if node.is_group:
                rows = [c.outputs for c in node.children]
                keys = sorted({k for row in rows for k in row if k != "result"})
                for key in keys:
                    scope[f"{prefix}.outputs.parameters.{key}"] = json.dumps(
                        [row.get(key) for row in rows], separators=(",", ":")
                    )
                scope[f"{prefix}.outputs.parameters"] = json.dumps(
                    [{k: v for k, v in row.items() if k != "result"} for row in rows],
                    separators=(",", ":"),
                )
                scope[f"{prefix}.outputs.result"] = json.dumps([row.get("result") for row in rows])
            else:
                for key, value in node.outputs.items():
                    path = "result" if key == "result" else f"parameters.{key}"
                    scope[f"{prefix}.outputs.{path}"] = value
                if node.attempts and node.attempts[-1].exit_code is not None:
                    scope[f"{prefix}.exitCode"] = str(node.attempts[-1].exit_code)
        return scope

    def _task(self, task: dict[str, Any]) -> Node:
        name = task["name"]
        for key in _UNSUPPORTED_TASK:
            if key in task:
                raise NotImplementedError(f"DAG task {name!r}: {key!r} is not supported")
        node_name = f"{self.node.name}.{name}"
        logic = self.logic[name]
        if logic and not templating.evaluate_depends(logic, self._result):
            return Node(
                node_name, name, task["template"], OMITTED, "omitted: depends condition not met"
            )
        scope = self._scope()
        skip = ""
        if "when" in task:
            try:
                when = self._substitute(str(task["when"]), scope)
                proceed = evaluate_when(when)
            except (ValueError, templating.UnresolvedError) as exc:
                return Node(node_name, name, task["template"], ERROR, str(exc))
            skip = "" if proceed else f"when '{when}' evaluated false"
        try:
            items = self._items(task, scope)
        except (ValueError, templating.UnresolvedError, SkippedOutputError) as exc:
            if not skip or not _fans_out(task):
                if isinstance(exc, SkippedOutputError):
                    raise
                return Node(node_name, name, task["template"], ERROR, str(exc))
            items = []  # Argo's lazy expansion: a false `when` forgives the items
        if items is None:
            if skip:
                return Node(node_name, name, task["template"], SKIPPED, skip)
            return self._child(task, scope, node_name)
        group = Node(node_name, name, task["template"], is_group=True)
        if not items:
            group.phase, group.message = SKIPPED, "Skipped, empty params"
            return group
        if skip:
            group.phase = SUCCEEDED
            group.children = [
                Node(f"{node_name}({i}:{_label(item)})", name, task["template"], SKIPPED, skip)
                for i, item in enumerate(items)
            ]
            return group
        calls = []
        for i, item in enumerate(items):
            item_scope = {**scope, "item": item}
            if isinstance(item, dict):
                item_scope.update({f"item.{k}": v for k, v in item.items()})
            calls.append((item_scope, f"{node_name}({i}:{_label(item)})"))
        limits = [
            self.run.harness.concurrency,
            self.template.get("parallelism"),
            self.run.parallelism,
        ]
        workers = max(1, min(int(x) for x in limits if x))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            group.children = list(pool.map(lambda c: self._child(task, c[0], c[1]), calls))
        bad = [c for c in group.children if c.phase in (FAILED, ERROR)]
        group.phase = bad[-1].phase if bad else SUCCEEDED
        group.message = f"{len(bad)} of {len(items)} failed" if bad else ""
        return group

    def _child(self, task: dict[str, Any], scope: dict[str, Any], node_name: str) -> Node:
        args = {}
        try:
            for param in task.get("arguments", {}).get("parameters", []):
                args[param["name"]] = self._substitute(str(param.get("value", "")), scope)
        except templating.UnresolvedError as exc:
            return Node(node_name, task["name"], task["template"], ERROR, str(exc))
        return self.run.template(task["template"], args, node_name, task["name"])

    def _items(self, task: dict[str, Any], scope: dict[str, Any]) -> list[Any] | None:
        if "withParam" in task:
            text = self._substitute(task["withParam"], scope)
            try:
                items = json.loads(text)
            except json.JSONDecodeError:
                items = None
            if not isinstance(items, list):
                raise ValueError(
                    f"withParam value could not be parsed as a JSON list: {text[:200]}"
                )
            return items
        if "withItems" in task:
            return list(task["withItems"])
        if "withSequence" in task:
            seq = {k: self._substitute(str(v), scope) for k, v in task["withSequence"].items()}
            start = int(seq.get("start", 0))
            if "count" in seq:
                numbers = list(range(start, start + int(seq["count"])))
            else:
                end = int(seq.get("end", 0))
                numbers = list(range(start, end + 1) if end >= start else range(start, end - 1, -1))
            fmt = seq.get("format", "%d")
            return [fmt % n for n in numbers]
        return None

    def _substitute(self, text: str, scope: dict[str, Any]) -> str:
        """`templating.substitute`, raising `SkippedOutputError` for an output of a task
        that was Skipped, Omitted or never ran."""
        try:
            return templating.substitute(text, scope)
        except templating.UnresolvedError as exc:
            found = re.match(r"tasks\.([^.]+)\.outputs\.", exc.name)
            node = self.nodes.get(found.group(1)) if found else None
            if found and (node is None or node.phase in (SKIPPED, OMITTED)):
                state = "never ran" if node is None else f"was {node.phase}"
                raise SkippedOutputError(
                    f"task {self.node.name} reads {{{{{exc.name}}}}}, but task "
                    f"{found.group(1)} {state}: Argo cannot resolve it"
                ) from None
            raise

    def _outputs(self) -> None:
        scope = self._scope()
        for param in self.template.get("outputs", {}).get("parameters", []):
            source = param.get("valueFrom", {}).get("parameter")
            if source is None:
                raise NotImplementedError("DAG output parameters need valueFrom.parameter")
            try:
                self.node.outputs[param["name"]] = templating.substitute(source, scope)
            except templating.UnresolvedError as exc:
                if self.node.phase == SUCCEEDED:
                    self.node.phase, self.node.message = ERROR, str(exc)


def _fans_out(task: dict[str, Any]) -> bool:
    return any(key in task for key in ("withParam", "withItems", "withSequence"))


def _label(item: Any) -> str:
    if isinstance(item, dict):
        return ",".join(f"{k}:{templating.render(v)}" for k, v in sorted(item.items()))
    return templating.render(item)
