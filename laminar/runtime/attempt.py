"""One attempt of one task: a new instance of the layer running as that task, its hooks and
``__call__`` run as the user's code (``current`` names the task), and the manifest of what
it left. ``Runtime`` decides whether and how often to call these and commits the result;
these functions take what they need as arguments and never call back into it.
"""

from __future__ import annotations

from typing import NamedTuple

from laminar.configurations.settings import LayerSettings
from laminar.errors import ConfigurationError
from laminar.ir import FlowIR, LayerSpec
from laminar.model.layer import Layer
from laminar.runtime.context import TaskContext, user_code
from laminar.runtime.deadline import Deadline, limit, stopped_after
from laminar.runtime.decisions import Verdict
from laminar.runtime.hooks import around_call, entry_verdict, refuse_awaitable
from laminar.runtime.outputs import outputs
from laminar.runtime.secrets import only_own_secrets
from laminar.runtime.views import arguments_of
from laminar.settings import Running, running
from laminar.store.execution import CAUGHT, MAIN, Execution, Manifest, PlanRecord


class Attempt(NamedTuple):
    """Attempt ``number`` of task ``task_index`` of layer ``spec`` (``plan``: its ForEach
    plan; ``task_index`` None for a layer without ForEach)."""

    ir: FlowIR
    execution: Execution
    spec: LayerSpec
    task_index: int | None
    plan: PlanRecord | None
    number: int
    #: The task's settings where its submission or retry hooks may change them (None: the
    #: layer's, as declared).
    configuration: LayerSettings | None = None

    @property
    def task(self) -> str:
        return MAIN if self.task_index is None else str(self.task_index)

    def instance(self, attempt_dir: str) -> Layer:
        """A new instance of the layer's class running as this attempt, writing its shards
        under ``attempt_dir``."""
        spec, plan = self.spec, self.plan
        cls = self.ir.classes[spec.name]
        layer = cls.__new__(cls)
        layer.__dict__["_laminar_runtime"] = TaskContext(
            self.execution,
            spec.name,
            self.task_index,
            attempt_dir,
            {},
            splits=plan.count if plan is not None else 1,
            attempt_number=self.number,
            configuration=self.configuration or spec.settings,
        )
        return layer

    def running(self) -> Running:
        """What ``laminar.settings.current`` says while this attempt runs."""
        splits = self.plan.count if self.plan is not None and self.spec.is_foreach else 1
        return Running(
            self.execution.id, self.ir.name, self.spec.name, self.task_index, splits, self.number
        )


def run_entry_hooks(attempt: Attempt, views: dict[str, Layer]) -> Verdict:
    """Run the task's entry hooks on a new instance; a hook that raises fails the task with
    the user's traceback."""
    layer = attempt.instance("")
    with user_code(attempt.spec.name, attempt.task_index), running(attempt.running()):
        return entry_verdict(attempt.spec, layer, views)


def run_resource_hooks(attempt: Attempt, kind: str, views: dict[str, Layer]) -> None:
    """Run the task's ``kind`` hooks (``submission`` before its first attempt, ``retry``
    before each retry) on a new instance sharing ``attempt.configuration``, which they
    change; a hook that raises fails the task with the user's traceback."""
    layer = attempt.instance("")
    with user_code(attempt.spec.name, attempt.task_index), running(attempt.running()):
        for hook in attempt.spec.hooks_of(kind):
            try:
                returned = hook.function(layer, **arguments_of(views, hook.arguments))
            except ConfigurationError as error:  # a value no pod could ask for: say whose,
                error.args = (  # keeping the traceback to the user's line
                    f"Layer {attempt.spec.name}: its @hooks.{kind} hook {hook.name} set a "
                    f"resource the task's pod cannot ask for: {error}",
                )
                raise
            refuse_awaitable(attempt.spec.name, f"{kind} hook {hook.name}", returned)


def run_attempt(
    attempt: Attempt,
    views: dict[str, Layer],
    *,
    deadline: Deadline | None = None,
    secrets: frozenset[str] = frozenset(),
) -> tuple[Manifest, BaseException | None]:
    """Run the attempt: the manifest of its outputs, or (status ``caught``, nothing stored)
    of the error its ``Catch`` lists, with that error. Any other error is raised
    (``TaskFailed`` for the user's), and the attempt's files are removed. It runs with its
    layer's secrets and no other layer's, and is stopped past its timeout or ``deadline``
    (the run's)."""
    spec, execution = attempt.spec, attempt.execution
    cls = attempt.ir.classes[spec.name]
    attempt_dir = execution.layout.new_attempt_dir(spec.name, attempt.task)
    layer = attempt.instance(attempt_dir)
    context = layer.__dict__["_laminar_runtime"]
    try:
        with (
            only_own_secrets(spec, secrets),
            user_code(spec.name, attempt.task_index),
            running(attempt.running()),
            stopped_after(limit(spec.name, spec.settings.timeout, deadline)),
        ):
            if cls.__init__ is not object.__init__:
                cls.__init__(layer)
            caught = around_call(spec, layer, views, arguments_of(views, spec.arguments))
        if caught is None:
            manifest = Manifest(layer=spec.name, task=attempt.task)
            manifest.attributes.update(outputs(execution, spec, layer, context.shards, attempt_dir))
            return manifest, None
    except BaseException:
        # Nothing names this attempt's files: free the space now (a full disk stays full
        # otherwise, and the resume would fail the same way).
        execution.store.remove_tree(execution.layout.absolute(attempt_dir))
        raise
    execution.store.remove_tree(execution.layout.absolute(attempt_dir))  # what it set is incomplete
    reason = f"{type(caught).__name__}: {caught}"[:500]
    return Manifest(spec.name, attempt.task, status=CAUGHT, reason=reason), caught
