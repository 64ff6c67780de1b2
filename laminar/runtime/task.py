"""The runtime shim: plan a ForEach layer, or run one layer / one leg of tasks, and commit.

This is the only code that calls a user's layer. The local executor calls it in-process;
every backend calls it through ``laminar plan`` / ``laminar task``. Either way each task
reads its inputs lazily from the datastore and commits its outputs with one atomic manifest,
so re-running a committed task is a no-op and a resubmitted run resumes where it stopped.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from laminar.errors import ArtifactError, ExecutionError
from laminar.ir import FlowIR, LayerSpec
from laminar.ir.branching import sparse
from laminar.model.layer import Layer
from laminar.runtime.context import (
    LayerConfiguration,
    TaskContext,
    TaskFailed,
    in_layer,
    user_code,
)
from laminar.runtime.decisions import (
    blocked_by,
    commit_skip,
    decide,
    require_started,
    skip_upstreams,
)
from laminar.runtime.fanout import plan_fanout
from laminar.runtime.hooks import around_call, entry_decision
from laminar.runtime.inputs import start
from laminar.runtime.views import arguments_of, task_views
from laminar.settings import Running, running
from laminar.store.execution import (
    CAUGHT,
    MAIN,
    SKIPPED,
    Execution,
    Manifest,
    PlanRecord,
    TaskGroup,
)
from laminar.text import describe_bytes, invalid_utf8, printable_lines, shell_word


class Runtime:
    """Plans and runs the layers of one flow for one execution in one datastore."""

    def __init__(self, ir: FlowIR, execution: Execution) -> None:
        self.ir = ir
        self.execution = execution
        self._inputs: dict[str, Any] | None = None
        #: Where decisions (a layer skipped, an error caught) are told; the shim prints them.
        self.report: Callable[[str], None] | None = None

    def start(self, given: dict[str, Any] | None) -> None:
        """Commit the execution's inputs, or check ``given`` against the committed ones.

        A flow that declares no inputs and is given none has nothing to commit or check:
        its inputs are read only if a layer asks for them (one read less per deployed task).
        """
        if given or self.ir.inputs:
            self._inputs = start(self.ir, self.execution, given)

    def inputs(self) -> dict[str, Any]:
        """The execution's committed inputs (its defaults when none were committed)."""
        if self._inputs is None:
            self._inputs = start(self.ir, self.execution, None)
        return self._inputs

    # -- planning --------------------------------------------------------------------------
    def plan(self, layer: str, max_legs: int | None = None) -> PlanRecord:
        """Decide a layer's tasks and commit the plan; an existing plan is reused.

        A ForEach layer's plan counts its tasks (none when what it fans out over was
        skipped). A layer with an entry hook and no ForEach is planned too: its hooks decide
        whether it has its one task or none.
        """
        spec = self._plannable(layer)
        existing = self.execution.commits.read_plan(layer)
        if existing is not None:
            return existing
        self.execution.ensure_created()
        require_started(self, spec)
        skipped = blocked_by(self, spec, skip_upstreams(spec))
        if not skipped and not spec.is_foreach:
            skipped = entry_decision(self, spec, None, None)
        if skipped:
            record = PlanRecord(count=0, legs=0, skipped=skipped)
        elif spec.is_foreach:
            counted = plan_fanout(self.ir, self.execution, spec)
            legs = counted.count if max_legs is None else min(counted.count, max_legs)
            record = PlanRecord(counted.count, legs, counted.axes, sparse=sparse(self.ir, layer))
        else:
            record = PlanRecord(count=1, legs=1)  # its entry hooks let it run
        written = self.execution.commits.write_plan(
            layer, record
        )  # another writer's plan may stand
        if written == record and skipped:
            commit_skip(self, spec, skipped)
        return written

    def _plannable(self, layer: str) -> LayerSpec:
        spec = self.ir.spec(layer)
        if not (spec.is_foreach or spec.has_entry):
            raise ExecutionError(
                f"Layer {layer} has no ForEach, so it has no tasks to plan; run it with "
                f"laminar task ... {shell_word('--layer=' + layer)} (without --leg)."
            )
        return spec

    # -- running ---------------------------------------------------------------------------
    def run_leg(self, layer: str, leg: int | None, *, retry: bool = False) -> bool:
        """Run a whole layer (``leg`` None) or one leg of a ForEach layer; returns whether
        it was skipped (the layer, or every task of the leg)."""
        spec = self.ir.spec(layer)
        if not spec.is_foreach:
            if leg not in (None, 0):
                raise ExecutionError(f"Layer {layer} has no ForEach; it takes no --leg.")
            with in_layer(layer):
                self.run_task(spec, None, None, retry=retry)
            manifest = self.execution.commits.read_manifest(layer, MAIN)
            return manifest is not None and manifest.status == SKIPPED
        plan = self.execution.commits.read_plan(layer)
        if plan is None:
            plan = self.plan(layer)
        if plan.skipped:
            return True
        indices = range(plan.count) if leg is None else plan.leg_indices(leg)
        pending = self.pending(layer, indices)
        with in_layer(layer), self.committing() as group:
            for i in pending:
                self.run_task(spec, i, plan, retry=retry, pending=True, group=group)
        if not self.ir.branches:
            return False  # no task of this flow is ever skipped: no reads to find out
        tasks = [str(i) for i in indices]
        ended = self.execution.commits.read_manifests(layer, tasks)
        return bool(tasks) and all(m is not None and m.status == SKIPPED for m in ended)

    def pending(self, layer: str, indices: Iterable[int]) -> list[int]:
        """The tasks among ``indices`` not committed yet, from one listing (not one read each)."""
        committed = self.execution.commits.committed_tasks(layer)
        return [i for i in indices if str(i) not in committed]

    @contextlib.contextmanager
    def committing(self) -> Iterator[TaskGroup]:
        """Commit the tasks run inside in groups; on leaving, even by an error, the tasks that
        succeeded are committed."""
        group = TaskGroup(self.execution.commit_group)
        try:
            yield group
        finally:
            group.flush()

    def run_task(
        self,
        spec: LayerSpec,
        index: int | None,
        plan: PlanRecord | None,
        *,
        retry: bool = False,
        on_retry: Callable[[str], None] | None = None,
        pending: bool = False,
        group: TaskGroup | None = None,
    ) -> bool:
        """Run one task unless already committed; returns whether it ran.

        ``pending`` says the caller has just listed the committed tasks and this one is not
        among them, which saves a read per task in a large fan-out. With ``group`` the
        task's manifest joins the group, committed when the group is written (the caller
        flushes it).
        """
        task = MAIN if index is None else str(index)
        if not pending and self.execution.is_committed(spec.name, task):
            return False
        self.execution.ensure_created()
        skipped = decide(self, spec, index, plan)
        if skipped is not None:
            if index is not None and skipped:
                self._commit(Manifest(spec.name, task, status=SKIPPED, reason=skipped), group)
            return False
        attempts = spec.retry.attempts if (retry and spec.retry) else 1
        for attempt in range(1, attempts + 1):
            try:
                self._attempt(spec, index, task, plan, group, attempt)
                return True
            except TaskFailed as failure:
                if attempt == attempts:
                    raise
                assert spec.retry is not None
                wait = spec.retry.wait_before(attempt)
                message = f"{failure} (attempt {attempt} of {attempts}); retrying in {wait:g}s"
                (on_retry or say)(message)
                time.sleep(wait)
        return True  # pragma: no cover - the loop returns or raises

    def instance(
        self, spec: LayerSpec, index: int | None, plan: PlanRecord | None, attempt: str, number: int
    ) -> Layer:
        """A new instance of ``spec``'s class, running as task ``index``."""
        cls = self.ir.classes[spec.name]
        layer = cls.__new__(cls)
        layer.__dict__["_laminar_runtime"] = TaskContext(
            self.execution,
            spec.name,
            index,
            attempt,
            {},
            splits=plan.count if plan is not None else 1,
            attempt_number=number,
            configuration=LayerConfiguration(spec.container, spec.retry, spec.foreach),
        )
        return layer

    def task_info(
        self, spec: LayerSpec, index: int | None, plan: PlanRecord | None, attempt: int
    ) -> Running:
        """What ``laminar.settings.current`` says while this task runs."""
        splits = plan.count if plan is not None and spec.is_foreach else 1
        return Running(self.execution.id, self.ir.name, spec.name, index, splits, attempt)

    def _commit(self, manifest: Manifest, group: TaskGroup | None) -> None:
        if group is not None:
            group.add(manifest)
        else:
            self.execution.commit(manifest)

    def _attempt(
        self,
        spec: LayerSpec,
        index: int | None,
        task: str,
        plan: PlanRecord | None,
        group: TaskGroup | None,
        number: int = 1,
    ) -> None:
        cls = self.ir.classes[spec.name]
        attempt_dir = self.execution.layout.new_attempt_dir(spec.name, task)
        views = task_views(self, spec, index, plan)
        layer = self.instance(spec, index, plan, attempt_dir, number)
        context = layer.__dict__["_laminar_runtime"]
        caught: BaseException | None = None
        try:
            with user_code(spec.name, index), running(self.task_info(spec, index, plan, number)):
                if cls.__init__ is not object.__init__:
                    cls.__init__(layer)
                caught = around_call(spec, layer, views, arguments_of(views, spec.arguments))
            manifest = Manifest(layer=spec.name, task=task)
            if caught is not None:
                reason = f"{type(caught).__name__}: {caught}"[:500]
                manifest = Manifest(spec.name, task, status=CAUGHT, reason=reason)
                layer.__dict__.clear()  # what it set before raising is incomplete
            for name, value in vars(layer).items():
                if name.startswith("_"):
                    continue
                if invalid_utf8(name):
                    raise ArtifactError(
                        f"Layer {spec.name} set an attribute named {describe_bytes(name)}, "
                        "which is not valid UTF-8 and cannot be stored; give it a UTF-8 name."
                    )
                if name in context.shards:
                    manifest.attributes[name] = context.shards[name]
                else:
                    manifest.attributes[name] = self.execution.codec.encode(
                        spec.name, name, value, attempt_dir
                    )
        except BaseException:
            # Nothing names this attempt's files: free the space now (a full disk stays full
            # otherwise, and the resume would fail the same way).
            self.execution.store.remove_tree(self.execution.layout.absolute(attempt_dir))
            raise
        if caught is not None:
            self.execution.store.remove_tree(self.execution.layout.absolute(attempt_dir))
            if index is None:
                commit_skip(self, spec, manifest.reason, status=CAUGHT)
                return
        self._commit(manifest, group)


def say(message: str) -> None:
    """A line of laminar's own on stderr (a retry, a decision), escaped, on one line."""
    print(f"laminar: {printable_lines(message)}", file=sys.stderr, flush=True)
