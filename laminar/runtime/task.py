"""The runtime shim: plan a ForEach layer, or run one layer / one leg of tasks, and commit.

This is the only code that calls a user's layer. The local executor calls it in-process;
every backend calls it through ``laminar plan`` / ``laminar task``. Either way each task
reads its inputs lazily from the datastore and commits its outputs with one atomic manifest,
so re-running a committed task is a no-op and a resubmitted run resumes where it stopped.

(Over 300 lines: ``Runtime`` is the one object every task goes through, planning, deciding,
caching, resources decided by hooks and retries; what each step does in detail lives in its
own module, attempt.py, decisions.py, caching.py, resources.py, and only the order stays here.)
"""

from __future__ import annotations

import contextlib
import functools
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from laminar.configurations.hooks import RETRY, SUBMISSION
from laminar.configurations.settings import LayerSettings
from laminar.errors import ExecutionError
from laminar.ir import FlowIR, LayerSpec
from laminar.ir.branching import skip_upstreams, sparse
from laminar.model.layer import Layer
from laminar.runtime.attempt import Attempt, run_attempt, run_entry_hooks, run_resource_hooks
from laminar.runtime.capture import capturing
from laminar.runtime.context import (
    TaskFailed,
    in_layer,
)
from laminar.runtime.deadline import Deadline
from laminar.runtime.decisions import (
    RUNS,
    Skip,
    Verdict,
    blocked_by,
    blocked_task,
    commit_skip,
    require_started,
)
from laminar.runtime.fanout import plan_fanout
from laminar.runtime.inputs import start
from laminar.runtime.recording import Recorder, RecordingGroup
from laminar.runtime.resources import adjustable, described
from laminar.runtime.secrets import declared
from laminar.runtime.views import task_views
from laminar.store.execution import (
    CAUGHT,
    MAIN,
    SKIPPED,
    Execution,
    Manifest,
    PlanRecord,
    TaskGroup,
)
from laminar.text import printable_lines, shell_word

if TYPE_CHECKING:
    from laminar.runtime.caching import TaskCache


class Runtime:
    """Plans and runs the layers of one flow for one execution in one datastore."""

    def __init__(self, ir: FlowIR, execution: Execution, *, first_attempt: int = 1) -> None:
        self.ir = ir
        self.execution = execution
        self._inputs: dict[str, Any] | None = None
        #: Where decisions (a layer skipped, an error caught) are told; the shim prints them.
        self.report: Callable[[str], None] | None = None
        #: ``self.attempt`` of a task's first attempt in this process: the orchestrator's try
        #: number (``LAMINAR_ATTEMPT``) where the orchestrator retries by starting it again.
        self.first_attempt = first_attempt
        #: When the whole run must end (the flow's timeout, in a local run).
        self.deadline: Deadline | None = None
        #: Every layer's secrets: a task sees only its own layer's.
        self.secrets = declared(ir)
        #: Each attempt's error and output, kept in the datastore (``laminar logs``).
        self.recorder = Recorder(execution)

    @functools.cached_property
    def cache(self) -> TaskCache:
        """Serving tasks of cached layers from earlier executions (docs/caching.md). Made on
        first use: a flow without cached layers never imports the cache (nor hashlib)."""
        from laminar.runtime.caching import TaskCache

        return TaskCache(self.ir, self.execution, self.inputs)

    def cache_committed(self, manifests: Sequence[Manifest]) -> None:
        """Write the cache entries of tasks just committed, if any task used the cache."""
        if "cache" in self.__dict__:  # made on first use (``cache``)
            self.cache.committed(manifests)

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
    def plan(self, layer: str, max_legs: int | None = None, early: bool = False) -> PlanRecord:
        """Decide a layer's tasks and commit the plan; an existing plan is reused.

        A ForEach layer's plan counts its tasks (none when what it fans out over was
        skipped). A layer with an entry hook and no ForEach is planned too: its hooks decide
        whether it has its one task or none. ``early`` (``laminar task --then-plan``): the
        plan is made at the end of the job of what it reads (``LayerSpec.plan_reads``),
        before the layer's other upstreams ran; the lowering plans it there only when none of
        those may skip it, so only what it reads is checked.
        """
        spec = self._plannable(layer)
        existing = self.execution.commits.read_plan(layer)
        if existing is not None:
            return existing
        self.execution.ensure_created()
        upstreams = skip_upstreams(spec)
        if early:
            upstreams = tuple(name for name in upstreams if name in spec.plan_reads)
        else:
            require_started(self.ir, self.execution, spec)
        skipped = blocked_by(self.ir, self.execution, spec, upstreams)
        if skipped is None and not spec.is_foreach:
            try:
                verdict = self.entry_verdict(spec, None, None)
            except TaskFailed as failure:
                self.recorder.failed(layer, MAIN, self.first_attempt, failure)
                raise
            skipped = verdict.reason if isinstance(verdict, Skip) else None
        if skipped is not None:
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
        if written == record and skipped is not None:
            self.commit_skip(spec, skipped)
        if written.count == 0:  # no task for its followers to follow: no leg of theirs runs
            for follower in self.ir.specs():
                if follower.follows == layer:
                    self.plan(follower.name, max_legs)
        return written

    def commit_skip(self, spec: LayerSpec, reason: str, status: str = SKIPPED) -> None:
        """Record that layer ``spec`` did not finish (and what is skipped after it)."""
        commit_skip(self.ir, self.execution, spec, reason, status=status, report=self.report)

    def _plannable(self, layer: str) -> LayerSpec:
        spec = self.ir.spec(layer)
        if not (spec.is_foreach or spec.has_entry or spec.sized):
            raise ExecutionError(
                f"Layer {layer} has no ForEach, so it has no tasks to plan; run it with "
                f"laminar task ... {shell_word('--layer=' + layer)} (without --leg)."
            )
        return spec

    # -- running ---------------------------------------------------------------------------
    def run_leg(self, layer: str, leg: int | None, *, owns_attempts: bool = False) -> bool:
        """Run a whole layer (``leg`` None) or one leg of a ForEach layer; returns whether
        it was skipped (the layer, or every task of the leg). ``owns_attempts``: see
        ``run_task``."""
        spec = self.ir.spec(layer)
        if not spec.is_foreach:
            if leg not in (None, 0):
                raise ExecutionError(f"Layer {layer} has no ForEach; it takes no --leg.")
            with in_layer(layer):
                self.run_task(spec, None, None, owns_attempts=owns_attempts)
            manifest = self.execution.commits.read_manifest(layer, MAIN)
            return manifest is not None and manifest.status == SKIPPED
        plan = self.execution.commits.read_plan(layer)
        if plan is None:
            plan = self.plan(layer, self._leader_legs(spec))
        if plan.skipped:
            return True
        indices = range(plan.count) if leg is None else plan.leg_indices(leg)
        pending = self.pending(layer, indices)
        self.expect(spec, pending)
        with in_layer(layer), self.committing() as group:
            for i in pending:
                self.run_task(spec, i, plan, owns_attempts=owns_attempts, pending=True, group=group)
        if not self.ir.branches:
            return False  # no task of this flow is ever skipped: no reads to find out
        tasks = [str(i) for i in indices]
        ended = self.execution.commits.read_manifests(layer, tasks)
        return bool(tasks) and all(m is not None and m.status == SKIPPED for m in ended)

    def _leader_legs(self, spec: LayerSpec) -> int | None:
        """The cap on legs a layer following another's (``LayerSpec.follows``) is planned with
        by its first leg: the legs its leader was planned in, so both split tasks alike."""
        if spec.follows is None:
            return None
        leader = self.execution.commits.read_plan(spec.follows)
        return leader.legs if leader is not None and leader.legs > 0 else None

    def pending(self, layer: str, indices: Iterable[int]) -> list[int]:
        """The tasks among ``indices`` not committed yet, from one listing (not one read each)."""
        committed = self.execution.commits.committed_tasks(layer)
        return [i for i in indices if str(i) not in committed]

    def served(self, layer: str) -> int:
        """How many tasks of ``layer`` this process served from the cache."""
        return self.cache.served.get(layer, 0) if "cache" in self.__dict__ else 0

    def expect(self, spec: LayerSpec, indices: Sequence[int]) -> None:
        """Tasks ``indices`` of ``spec`` run next, in increasing order: a cached layer
        computes their keys a window at a time (``TaskCache.expect``)."""
        if spec.settings.cache is not None:
            self.cache.expect(spec.name, indices)

    @contextlib.contextmanager
    def committing(self) -> Iterator[TaskGroup]:
        """Commit the tasks run inside in groups; on leaving, even by an error, the tasks that
        succeeded are committed."""
        # Cache entries follow the manifests of their tasks, a file per commit group.
        group = RecordingGroup(self.execution, self.recorder, then=self.cache_committed)
        try:
            with capturing():  # descriptors redirected once for all the tasks inside
                yield group
        finally:
            group.flush()

    def run_task(
        self,
        spec: LayerSpec,
        index: int | None,
        plan: PlanRecord | None,
        *,
        owns_attempts: bool = False,
        on_retry: Callable[[str], None] | None = None,
        pending: bool = False,
        group: TaskGroup | None = None,
    ) -> bool:
        """Run one task unless already committed; returns whether it ran.

        ``owns_attempts``: this process makes the layer's ``Retry`` attempts itself (the local
        executor, targets without retries); otherwise the orchestrator retries by running
        the task again, and this is attempt ``first_attempt``.
        ``pending`` says the caller has just listed the committed tasks and this one is not
        among them, which saves a read per task in a large fan-out. With ``group`` the
        task's manifest joins the group, committed when the group is written (the caller
        flushes it).
        """
        task = MAIN if index is None else str(index)
        if not pending and self.execution.is_committed(spec.name, task):
            return False
        self.execution.ensure_created()
        try:
            verdict = self.decide(spec, index, plan)
        except TaskFailed as failure:  # an entry hook raised
            self.recorder.failed(spec.name, task, self.first_attempt, failure)
            raise
        if isinstance(verdict, Skip):
            if not verdict.recorded:
                skip = Manifest(spec.name, task, status=SKIPPED, reason=verdict.reason)
                self._commit(skip, group)
                if index is not None and self.report is not None:  # the task's own log
                    self.report(f"{spec.name}[{index}] skipped: {verdict.reason}")
            return False
        origin, key = "", ""
        if spec.settings.cache is not None:
            origin, key = self.cache.lookup(spec, index, plan, lambda m: self._commit(m, group))
        if origin:
            if self.report is not None:  # the task's own log says where its values came from
                label = spec.name if index is None else f"{spec.name}[{index}]"
                self.report(f"{label} served from the cache: values of execution {origin}")
            return True
        policy = spec.settings.retry if owns_attempts else None
        attempts = policy.attempts if policy is not None else 1
        configuration = self.resources(spec, index, plan)
        for attempt in range(1, attempts + 1):
            number = self.first_attempt + attempt - 1
            try:
                self._attempt(spec, index, plan, group, number, configuration, key)
                return True
            except TaskFailed as failure:
                if attempt == attempts or (self.deadline and self.deadline.left() <= 0):
                    raise  # the last attempt, or the run's time is up: no retry
                assert policy is not None
                if configuration is not None:  # before the wait, as in the original library
                    self.run_resource_hooks(RETRY, spec, index, plan, number, configuration)
                wait = policy.wait_before(attempt)
                message = f"{failure} (attempt {attempt} of {attempts}); retrying in {wait:g}s"
                (on_retry or say)(message)
                time.sleep(wait)
        return True  # pragma: no cover - the loop returns or raises

    def resources(
        self, spec: LayerSpec, index: int | None, plan: PlanRecord | None
    ) -> LayerSettings | None:
        """The task's settings as its submission hooks decide them, with its retry hooks
        replayed once per attempt the orchestrator already made (``laminar.runtime.resources``);
        None when the layer has neither kind of hook."""
        if not spec.sized:
            return None
        configuration = adjustable(spec.settings)
        self.run_resource_hooks(SUBMISSION, spec, index, plan, self.first_attempt, configuration)
        for _ in range(self.first_attempt - 1):
            self.run_resource_hooks(RETRY, spec, index, plan, self.first_attempt, configuration)
        return configuration

    def run_resource_hooks(
        self,
        kind: str,
        spec: LayerSpec,
        index: int | None,
        plan: PlanRecord | None,
        number: int,
        configuration: LayerSettings,
    ) -> None:
        attempt = Attempt(self.ir, self.execution, spec, index, plan, number, configuration)
        # Upstream layers whole, not this task's elements: the original library ran these
        # hooks where tasks are submitted, so they index them (a.baz[self.index]).
        whole = self.views(spec, None, None)
        try:
            run_resource_hooks(attempt, kind, whole)
        except TaskFailed as failure:  # a hook raised: the task failed, and says so
            self.recorder.failed(spec.name, attempt.task, number, failure)
            raise

    def decide(self, spec: LayerSpec, index: int | None, plan: PlanRecord | None) -> Verdict:
        """Whether task ``index`` of ``spec`` runs: a layer after one that did not finish is
        skipped (the skip committed at once); otherwise its entry hooks decide (a layer's in
        its plan, a ForEach task's here)."""
        if index is None:
            if spec.has_entry:  # its plan ran the hooks
                skipped = self.plan(spec.name).skipped
                return Skip(skipped, recorded=True) if skipped else RUNS
            blocked = blocked_by(self.ir, self.execution, spec, spec.dependencies)
            if blocked is not None:
                self.commit_skip(spec, blocked)
                return Skip(blocked, recorded=True)
            return RUNS
        assert plan is not None
        if not self.ir.branches:
            return RUNS
        return blocked_task(self.execution, spec, index, plan) or self.entry_verdict(
            spec, index, plan
        )

    def entry_verdict(self, spec: LayerSpec, index: int | None, plan: PlanRecord | None) -> Verdict:
        """The verdict of task ``index``'s entry hooks (``RUNS`` without any)."""
        if not spec.has_entry:
            return RUNS
        views = self.views(spec, index, plan)
        attempt = Attempt(self.ir, self.execution, spec, index, plan, self.first_attempt)
        return run_entry_hooks(attempt, views)

    def views(
        self, spec: LayerSpec, index: int | None, plan: PlanRecord | None
    ) -> dict[str, Layer]:
        """The upstream views task ``index`` of ``spec`` (and its hooks) receives."""
        inputs = self.inputs() if spec.reads_inputs else None
        return task_views(self.ir, self.execution, inputs, spec, index, plan)

    def _commit(self, manifest: Manifest, group: TaskGroup | None) -> None:
        """Commit ``manifest`` now, or with ``group``; its cache entry, if it has a key,
        follows (the group's, once the group is written)."""
        if group is not None:
            group.add(manifest)
        else:
            self.execution.commit(manifest)
            if manifest.cache_key:
                self.cache_committed([manifest])

    def _attempt(
        self,
        spec: LayerSpec,
        index: int | None,
        plan: PlanRecord | None,
        group: TaskGroup | None,
        number: int,
        configuration: LayerSettings | None = None,
        key: str = "",
    ) -> bool:
        """Run one attempt and commit what it left (``key``: the task's cache key, kept in its
        manifest: the cache's entry is made from it); returns whether the task finished."""
        attempt = Attempt(self.ir, self.execution, spec, index, plan, number, configuration)
        grouped = group is not None
        with self.recorder.attempt(spec.name, attempt.task, number, grouped=grouped) as record:
            if configuration is not None:  # in the task's own log, kept for laminar logs
                label = spec.name if index is None else f"{spec.name}[{index}]"
                say(f"{label} asks for {described(configuration)} (decided by its hooks)")
            views = self.views(spec, index, plan)
            manifest, record.caught = run_attempt(
                attempt, views, deadline=self.deadline, secrets=self.secrets
            )
            if record.caught is not None and index is not None and self.report is not None:
                self.report(f"{spec.name}[{index}]: {manifest.reason} (caught)")  # its log
        if manifest.status == CAUGHT and index is None:
            self.commit_skip(spec, manifest.reason, status=CAUGHT)
        else:
            manifest.cache_key = key if manifest.finished else ""
            self._commit(manifest, group)
        return manifest.finished


def say(message: str) -> None:
    """A line of laminar's own on stderr (a retry, a decision), escaped, on one line."""
    print(f"laminar: {printable_lines(message)}", file=sys.stderr, flush=True)
