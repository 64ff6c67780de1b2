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

from laminar.errors import ArtifactError, ExecutionError, LaminarError
from laminar.ir import FlowIR, LayerSpec
from laminar.model import layer as layer_module
from laminar.model.layer import Layer
from laminar.model.parameters import PARAMETERS
from laminar.runtime import context as context_module
from laminar.runtime.context import (
    LayerConfiguration,
    TaskContext,
    TaskFailed,
    UpstreamReader,
    in_layer,
)
from laminar.runtime.fanout import plan_fanout, positions
from laminar.runtime.inputs import parameters_view, start
from laminar.store.execution import MAIN, Execution, Manifest, PlanRecord, TaskGroup
from laminar.text import describe_bytes, invalid_utf8, printable_lines, shell_word


class Runtime:
    """Plans and runs the layers of one flow for one execution in one datastore."""

    def __init__(self, ir: FlowIR, execution: Execution) -> None:
        self.ir = ir
        self.execution = execution
        self._inputs: dict[str, Any] | None = None

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
        """Count a ForEach layer's tasks and commit the plan; an existing plan is reused."""
        spec = self._foreach_spec(layer)
        existing = self.execution.read_plan(layer)
        if existing is not None:
            return existing
        record = plan_fanout(self.ir, self.execution, spec)
        legs = record.count if max_legs is None else min(record.count, max_legs)
        record = PlanRecord(count=record.count, legs=legs, axes=record.axes)
        self.execution.ensure_created()
        return self.execution.write_plan(layer, record)  # another writer's plan may stand

    def _foreach_spec(self, layer: str) -> LayerSpec:
        spec = self.ir.spec(layer)
        if not spec.is_foreach:
            raise ExecutionError(
                f"Layer {layer} has no ForEach, so it has no tasks to plan; run it with "
                f"laminar task ... {shell_word('--layer=' + layer)} (without --leg)."
            )
        return spec

    # -- running ---------------------------------------------------------------------------
    def run_leg(self, layer: str, leg: int | None, *, retry: bool = False) -> int:
        """Run a whole layer (``leg`` None) or one leg of a ForEach layer; returns tasks run."""
        spec = self.ir.spec(layer)
        if not spec.is_foreach:
            if leg not in (None, 0):
                raise ExecutionError(f"Layer {layer} has no ForEach; it takes no --leg.")
            with in_layer(layer):
                return int(self.run_task(spec, None, None, retry=retry))
        plan = self.execution.read_plan(layer)
        if plan is None:
            plan = self.plan(layer)
        if leg is None:
            indices: Iterable[int] = range(plan.count)
        else:
            indices = plan.leg_indices(leg)
        pending = self.pending(layer, indices)
        with in_layer(layer), self.committing() as group:
            for i in pending:
                self.run_task(spec, i, plan, retry=retry, pending=True, group=group)
        return len(pending)

    def pending(self, layer: str, indices: Iterable[int]) -> list[int]:
        """The tasks among ``indices`` not committed yet, from one listing (not one read each)."""
        committed = self.execution.committed_tasks(layer)
        return [i for i in indices if str(i) not in committed]

    @contextlib.contextmanager
    def committing(self) -> Iterator[TaskGroup]:
        """Commit the tasks run inside in groups; on leaving, even by an error, the tasks that
        succeeded are committed."""
        group = TaskGroup(self.execution)
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
                (on_retry or _stderr)(message)
                time.sleep(wait)
        return True  # pragma: no cover - the loop returns or raises

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
        attempt_dir = self.execution.new_attempt_dir(spec.name, task)
        context = TaskContext(
            self.execution,
            spec.name,
            index,
            attempt_dir,
            {},
            splits=plan.count if plan is not None else 1,
            attempt_number=number,
            configuration=LayerConfiguration(spec.container, spec.retry, spec.foreach),
        )
        kwargs = self._arguments(spec, index, plan)
        layer = cls.__new__(cls)
        layer.__dict__["_laminar_runtime"] = context
        try:
            try:
                if cls.__init__ is not object.__init__:
                    cls.__init__(layer)
                layer(**kwargs)
            except LaminarError:
                raise
            except BaseException as error:
                if isinstance(error, KeyboardInterrupt):
                    raise
                raise TaskFailed(
                    spec.name, index, f"{type(error).__name__}: {error}", _user_traceback(error)
                ) from error
            manifest = Manifest(layer=spec.name, task=task)
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
                    manifest.attributes[name] = self.execution.encode(
                        spec.name, name, value, attempt_dir
                    )
        except BaseException:
            # Nothing names this attempt's files: free the space now (a full disk stays full
            # otherwise, and the resume would fail the same way).
            self.execution.store.remove_tree(self.execution.absolute(attempt_dir))
            raise
        if group is not None:
            group.add(manifest)
        else:
            self.execution.commit(manifest)

    def _arguments(
        self, spec: LayerSpec, index: int | None, plan: PlanRecord | None
    ) -> dict[str, Layer]:
        elements = positions(plan, index) if (plan is not None and index is not None) else {}
        views: dict[str, Layer] = {}
        if spec.reads_inputs:
            views[PARAMETERS] = parameters_view(self.inputs(), spec.name)
        for upstream_name in spec.dependencies:
            upstream = self.ir.spec(upstream_name)
            cls = self.ir.classes[upstream_name]
            view = cls.__new__(cls)
            view.__dict__["_laminar_reader"] = UpstreamReader(self, view, upstream, spec.name)
            for (layer, attribute), (position, _mapped) in elements.items():
                if layer == upstream_name:
                    view.__dict__[attribute] = self._element(upstream, attribute, position)
            views[upstream_name] = view
        return {argument: views[upstream] for argument, upstream in spec.arguments}

    def _element(self, upstream: LayerSpec, attribute: str, position: int) -> Any:
        if upstream.is_foreach:
            entry = self.execution.entry(upstream.name, str(position), attribute, reader="")
            return self.execution.decode(entry, f"{upstream.name}.{attribute}[{position}]")
        whole = self.execution.attribute(upstream.name, attribute, reader="", foreach=False)
        return whole[position]


def _stderr(message: str) -> None:
    print(f"laminar: {printable_lines(message)}", file=sys.stderr, flush=True)


def _user_traceback(error: BaseException) -> str:
    """The traceback from the user's ``__call__`` down, without laminar's own frames."""
    import traceback  # only a failing task pays for it

    frames = traceback.extract_tb(error.__traceback__)
    laminar = {__file__, layer_module.__file__, context_module.__file__}
    user = [f for f in frames if f.filename not in laminar]
    lines = traceback.format_list(user)
    lines += traceback.format_exception_only(type(error), error)
    return "Traceback (most recent call last):\n" + "".join(lines)
