"""The runtime shim's commands, as functions: what ``laminar plan`` and ``laminar task`` do.

Every generated task runs one of these (see ``laminar.contract`` for the contract with the
workflows). Run-time values arrive as arguments or, when an argument is ``None``, from the
environment variables of the contract. Errors are ``LaminarError``s; the CLI turns them into
exit statuses.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import ParamSpec

from laminar.configurations import serde
from laminar.contract import (
    ENV_ATTEMPT,
    ENV_EXECUTION,
    ENV_LEG,
    ENV_MAX_LEGS,
    PlanFormat,
    attempt_number,
    check_execution_id,
    output_file,
    render_output,
    render_plan,
)
from laminar.errors import LaminarError
from laminar.ir import FlowIR
from laminar.runtime import inputs
from laminar.runtime.context import TaskFailed
from laminar.runtime.decisions import layer_state
from laminar.runtime.task import Runtime, say
from laminar.settings import deployed
from laminar.store.datastore import Datastore
from laminar.store.execution import Execution, PlanRecord
from laminar.text import printable, printable_lines

P = ParamSpec("P")


def _deployed(command: Callable[P, int]) -> Callable[P, int]:
    """A shim command runs as a deployed task: what only a local run can do (a chain of flows,
    ``Execution.next``) refuses in it (``laminar.settings.in_deployed_task``)."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> int:
        with deployed():
            return command(*args, **kwargs)

    return run


def open_runtime(ir: FlowIR, command: str, execution: str | None, datastore: str | None) -> Runtime:
    """The runtime of one execution, its id from the argument or ``$LAMINAR_EXECUTION``."""
    execution_id = execution or os.environ.get(ENV_EXECUTION)
    if not execution_id:
        raise LaminarError(
            f"laminar {command} needs an execution id: pass --execution ID or set {ENV_EXECUTION}."
        )
    check_execution_id(execution_id, "--execution" if execution else f"${ENV_EXECUTION}")
    execution_store = Execution(
        Datastore(datastore), ir.name, execution_id, protocols=serde.PROTOCOLS
    )
    attempt = attempt_number(os.environ.get(ENV_ATTEMPT))
    runtime = Runtime(ir, execution_store, first_attempt=attempt)
    runtime.report = say  # the task's log says why a layer was skipped
    return runtime


@_deployed
def plan(
    ir: FlowIR,
    layer: str,
    *,
    execution: str | None = None,
    datastore: str | None = None,
    max_legs: int | None = None,
    fmt: PlanFormat = PlanFormat.JSON,
    output: str | None = None,
    resources_output: str | None = None,
    gpu_resource: str = "nvidia.com/gpu",
) -> int:
    """Plan ``layer`` (count a ForEach layer's tasks; run a layer's entry hooks), commit the
    plan and print its legs as ``fmt``; 0, or 1 when an entry or resource hook raised.
    ``resources_output`` receives what each leg's pod asks for on each attempt, as the
    layer's submission and retry hooks decide it (``laminar.runtime.sizing``)."""
    runtime = open_runtime(ir, "plan", execution, datastore)
    runtime.start(inputs.from_environment())
    try:
        if fmt is PlanFormat.SIZED:  # the legs and their resources in one output, below
            cap = max_legs if max_legs is not None else max_legs_from_environment()
            record = runtime.plan(layer, max_legs=cap)
        else:
            record = emit_plan(runtime, layer, max_legs, fmt, output, "laminar plan")
        if fmt is PlanFormat.SIZED or resources_output is not None:
            from laminar.runtime.sizing import leg_sizes, render_sized, render_sizes

            sizes = leg_sizes(runtime, layer, record, gpu_resource)  # the hooks run once
            if fmt is PlanFormat.SIZED:
                _write_output(output, render_sized(sizes), fmt, "laminar plan")
            if resources_output is not None:
                text = render_sizes(sizes)
                _write_output(resources_output, text, PlanFormat.JSON, "laminar plan")
    except TaskFailed as failure:
        _report(failure)
        return 1
    return 0


def emit_plan(
    runtime: Runtime,
    layer: str,
    max_legs: int | None,
    fmt: PlanFormat,
    output: str | None,
    command: str,
    early: bool = False,
    key: str | None = None,
) -> PlanRecord:
    """Plan ``layer`` (or reuse its committed plan) and print its legs as ``fmt``; ``early``:
    see ``Runtime.plan``; ``key``: see ``render_plan``."""
    if max_legs is None:
        max_legs = max_legs_from_environment()
    record = runtime.plan(layer, max_legs=max_legs, early=early)
    _write_output(output, render_plan(record.count, record.legs, fmt, key), fmt, command)
    return record


def _write_output(output: str | None, text: str, fmt: PlanFormat, command: str) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    output = output_file(output, f"{command}: the output")
    try:
        directory = os.path.dirname(output)
        if directory:
            os.makedirs(directory, exist_ok=True)
        with open(output, "a" if fmt.appends else "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as error:  # a directory, a read-only mount: say so, not a traceback
        raise LaminarError(
            f"{command} cannot write --output {printable(output)}: "
            f"{error.strerror or error}; the plan is committed, so run it again with a file."
        ) from None


@_deployed
def task(
    ir: FlowIR,
    layer: str,
    *,
    execution: str | None = None,
    datastore: str | None = None,
    leg: int | None = None,
    owns_attempts: bool = False,
    then_plan: Sequence[tuple[str, str]] = (),
    max_legs: int | None = None,
    fmt: PlanFormat = PlanFormat.JSON,
    skipped_status: int = 0,
    finished_output: str | None = None,
    plan_resources: Mapping[str, str] | None = None,
    gpu_resource: str = "nvidia.com/gpu",
    plan_keys: Mapping[str, str] | None = None,
    plan_if_ended: frozenset[str] = frozenset(),
) -> int:
    """Run layer ``layer`` (or leg ``leg`` of a ForEach layer); 0 on success, 1 if it failed,
    ``skipped_status`` when it was skipped (Airflow marks a task skipped by its exit status).

    ``owns_attempts`` (``--retry``): this process makes the layer's ``Retry`` attempts (for
    targets without retries of their own). A failing layer prints the user's traceback and
    the error on stderr. ``then_plan`` lists
    (planned layer, output file) pairs to plan once the layer is committed: where what a
    plan reads is this layer, it needs no task of its own (``backends/fusion.py``).
    ``finished_output`` receives ``finished`` = ``true`` or ``false`` in ``fmt``: whether the
    layer finished, for orchestrators that skip the layers after one whose error was caught.
    ``plan_resources`` maps a planned layer to the file that receives its pods' resources
    (``laminar plan --resources-output``). ``plan_keys`` maps a planned layer to the key
    that names its lines in ``$GITHUB_OUTPUT`` (``render_plan``). A layer in
    ``plan_if_ended`` is planned only if what its plan reads has ended (this job's decisions
    skipped it); otherwise nothing is written, and the job of what it reads plans it.
    """
    runtime = open_runtime(ir, "task", execution, datastore)
    runtime.start(inputs.from_environment())
    if leg is None:
        leg = leg_from_environment()
    if ir.spec(layer).is_foreach and leg is None:
        raise LaminarError(
            f"Layer {layer} is a ForEach layer: pass --leg K (or {ENV_LEG}) to run one "
            "leg of its tasks."
        )
    if ir.branches:
        earlier = layer_state(runtime.ir, runtime.execution, layer)
        if earlier is not None and not earlier.finished:  # the log says why nothing runs
            kind = "failed with a caught error" if earlier.caught else "was skipped"
            say(f"{layer} {kind}, as recorded earlier: {earlier.reason}")
    try:
        skipped = runtime.run_leg(layer, leg, owns_attempts=owns_attempts)
        for planned, output in then_plan:
            if planned in plan_if_ended and not _reads_ended(runtime, planned):
                continue
            command = "laminar task --then-plan"
            key = (plan_keys or {}).get(planned)
            record = emit_plan(
                runtime, planned, max_legs, fmt, output, command, early=True, key=key
            )
            if plan_resources and planned in plan_resources:  # what its pods ask for
                from laminar.runtime.sizing import leg_sizes, render_sizes

                text = render_sizes(leg_sizes(runtime, planned, record, gpu_resource))
                command = "laminar task --plan-resources"
                _write_output(plan_resources[planned], text, PlanFormat.JSON, command)
    except TaskFailed as failure:
        _report(failure)
        return 1
    if finished_output is not None:
        ended = layer_state(runtime.ir, runtime.execution, layer)
        finished = "true" if ended is not None and ended.finished else "false"
        _write_output(finished_output, render_output("finished", finished, fmt), fmt, "task")
    return skipped_status if skipped else 0


def _reads_ended(runtime: Runtime, layer: str) -> bool:
    """Whether every layer the plan of ``layer`` reads has ended (finished or skipped)."""
    spec = runtime.ir.spec(layer)
    reads = spec.plan_reads
    return all(layer_state(runtime.ir, runtime.execution, read) is not None for read in reads)


@_deployed
def exit_hooks(
    ir: FlowIR,
    *,
    execution: str | None,
    datastore: str | None,
    fail_if_run_failed: bool = False,
) -> int:
    """``laminar exit``: the flow's exit hooks, once, for an execution that ended; 1 when a
    hook raised (reported), or with ``fail_if_run_failed`` when the run failed."""
    from laminar.runtime.exits import run_exit_hooks
    from laminar.runtime.handle import Execution as Handle

    runtime = open_runtime(ir, "exit", execution, datastore)
    store = runtime.execution
    if ir.flow is None or not ir.exits:
        return 0
    handle = Handle(ir.flow, store.id, store.store.url)
    ran = run_exit_hooks(ir, ir.flow, store, handle, say)
    if fail_if_run_failed and not getattr(handle, "succeeded", True):
        failures = getattr(handle, "failures", [])
        say(f"the run failed: {'; '.join(f.error for f in failures[:3])}")
        return 1
    return 0 if ran else 1


def _report(failure: TaskFailed) -> None:
    print(printable_lines(failure.user_traceback), file=sys.stderr, end="")
    print(f"laminar: error: {printable_lines(str(failure))}", file=sys.stderr)


def max_legs_from_environment() -> int | None:
    """``$LAMINAR_MAX_LEGS``, where the orchestrator sets the cap when the task runs."""
    text = os.environ.get(ENV_MAX_LEGS, "")
    if text == "":
        return None
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise LaminarError(
            f"{ENV_MAX_LEGS}={text!r} is not a number of legs: it must be a whole number >= 1."
        )
    return int(text)


def leg_from_environment() -> int | None:
    text = os.environ.get(ENV_LEG, "")
    if text == "":
        return None
    if not (text.isascii() and text.isdigit()):
        raise LaminarError(
            f"{ENV_LEG}={text!r} is not a leg number: it must be a whole number >= 0, "
            "as the planning task printed."
        )
    return int(text)
