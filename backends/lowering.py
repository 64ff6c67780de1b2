"""Lowering: the IR becomes the graph of jobs that every target runs, built once.

A layer that runs once becomes one ``RUN`` job. A ForEach layer becomes a ``PLAN`` job, which
counts its tasks from the datastore and prints how many legs to start, and a ``MAPPED`` job
fanned out over those legs. A layer with an entry hook is planned the same way: its plan runs
the hooks and prints one leg or none, so every target shows a skipped layer as it shows an
empty fan-out. Jobs after a layer that may be skipped carry ``Gate``s, the decisions they
wait on (``laminar.ir.branching``), for targets that skip them natively.

Everything a target needs is decided here, the same way for every
target: ids legal for the target's name rule, the shim command of each job, the image (with
the error when there is none), the layer's environment (laminar's own variables refused),
retries (in the orchestrator, or in the shim for targets without retries) and resources.

A dialect (``backends/dialect.py`` and one sub-package per target) only translates this graph
into its target's syntax. It reads what a ``Target`` declares (name rule, plan format, ...)
and never re-decides what a job means.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from laminar import __version__
from laminar.backends.container import (
    env_of,
    image_of,
    laminar_command,
    resources_of,
    retry_of,
)
from laminar.backends.jobs import Gate, Job, JobGraph, JobKind
from laminar.backends.naming import NameRule, assign_ids
from laminar.contract import PLAN, TASK, PlanFormat, check_datastore_url, shim_argv
from laminar.errors import CompileError, LaminarError
from laminar.ir import FlowIR, LayerSpec
from laminar.ir.branching import deciders


@dataclass(frozen=True)
class CompileOptions:
    """What every target is compiled with; ``target`` holds the target's own options."""

    #: How generated commands name the flow: ``path/to/flow.py:FlowName``, relative.
    flow_ref: str
    datastore: str | None = None
    image: str | None = None
    #: The command that regenerates the output; shown in the generated file's header.
    command: str = ""
    #: The laminar executable inside tasks.
    laminar: tuple[str, ...] = ("laminar",)
    #: The target's options dataclass (``ArgoOptions``...); ``None`` means its defaults.
    target: Any = None


class Target(Protocol):
    """What lowering needs to know about a target; every dialect provides it."""

    @property
    def target(self) -> str: ...

    @property
    def name_rule(self) -> NameRule: ...

    @property
    def reserved(self) -> tuple[str, ...]: ...

    @property
    def plan_suffix(self) -> str: ...

    @property
    def plan_format(self) -> PlanFormat: ...

    @property
    def shim_retries(self) -> bool:
        """True when the target has no retries of its own: the shim retries (``--retry``)."""

    def max_legs(self) -> int | None: ...

    @property
    def fuse_plans(self) -> bool:
        """True when a ForEach layer whose only upstream runs once is planned by that
        upstream's job (one job fewer: on Argo a pod start)."""

    def plan_output(self, mapped: str) -> str | None: ...

    def needs_image(self) -> bool: ...

    @property
    def native_skips(self) -> bool:
        """True when the target skips jobs by itself from ``Gate``s (``when:``, ``if:``);
        False when every job runs and the shim reports a skip (``skipped_status``)."""

    @property
    def reads_skipped_outputs(self) -> bool:
        """True when a job may read an output of a job that was skipped (it reads empty)."""

    @property
    def skipped_status(self) -> int:
        """The exit status that makes the target mark a task skipped; 0 for none."""

    def finished_output(self, job: str) -> str | None:
        """Where job ``job`` writes its ``finished`` output; ``None``: the dialect says."""


def lower(ir: FlowIR, options: CompileOptions, target: Target) -> JobGraph:
    """Build the job graph of ``ir`` for ``target``. Raises ``CompileError``."""
    if options.datastore is not None:
        checked(check_datastore_url, options.datastore, "--datastore")
    layers = list(ir.order)
    ids = assign_ids(layers, target.name_rule, reserved=target.reserved)
    waits = deciders(ir)
    fused = _fused_plans(ir, waits) if target.fuse_plans else {}
    planned = [name for name in layers if _planned(ir.spec(name)) and name not in fused]
    plan_ids = assign_ids(
        planned,
        target.name_rule,
        reserved=[*target.reserved, *ids.values()],
        suffix=target.plan_suffix,
    )
    plan_ids.update((name, ids[upstream]) for name, upstream in fused.items())
    gates = _gates(ir, waits, target, ids, plan_ids)
    reporters = {g.layer for found in gates.values() for g in found if g.output == "finished"}
    jobs: list[Job] = []
    for spec in ir.specs():
        after = tuple(ids[dependency] for dependency in spec.dependencies)
        common: dict[str, Any] = {
            "spec": spec,
            "image": image_of(spec, options, target),
            "env": env_of(spec),
            "retry": None if target.shim_retries else retry_of(spec),
            "workdir": spec.container.workdir if spec.container is not None else None,
            "executable": len(laminar_command(spec, options)),
            "gates": gates[spec.name],
        }
        task = _task_argv(spec, options, target, ir.branches)
        resources = resources_of(spec)
        if not _planned(spec):
            plans = [name for name, upstream in fused.items() if upstream == spec.name]
            reports = spec.name in reporters
            jobs.append(
                Job(
                    ids[spec.name],
                    JobKind.RUN,
                    after=after,
                    argv=task
                    + _then_plan_argv(plans, ids, target)
                    + _finished_argv(reports, bool(plans), ids[spec.name], target),
                    plans=tuple(ids[name] for name in plans),
                    resources=resources,
                    reports_finished=reports,
                    **common,
                )
            )
            continue
        plan_id = plan_ids[spec.name]
        if spec.name not in fused:
            # A ForEach layer's plan only counts: the cluster's default resources. Otherwise
            # the plan runs the layer's entry hooks, the user's code: the layer's resources.
            plan = _plan_argv(spec, ids[spec.name], options, target)
            jobs.append(
                Job(
                    plan_id,
                    JobKind.PLAN,
                    after=after,
                    argv=plan,
                    after_skips=spec.has_entry,
                    resources=None if spec.is_foreach else resources,
                    **common,
                )
            )
        jobs.append(
            Job(
                ids[spec.name],
                JobKind.MAPPED,
                after=(plan_id,),
                argv=task,
                plan=plan_id,
                resources=resources,
                **common,
            )
        )
    return JobGraph(
        flow=ir.name,
        flow_ref=options.flow_ref,
        datastore=options.datastore,
        jobs=tuple(jobs),
        header=_header(ir, options, target),
        inputs=ir.inputs,
    )


def checked(check: Callable[[str, str], str], value: str, option: str) -> str:
    """``check(value, option)`` from the contract, its error as a ``CompileError``."""
    try:
        return check(value, option)
    except LaminarError as error:
        raise CompileError(str(error)) from None


def _planned(spec: LayerSpec) -> bool:
    """Whether the layer has a plan: a ForEach layer, or one whose entry hooks decide."""
    return spec.is_foreach or spec.has_entry


def _gates(
    ir: FlowIR,
    waits: dict[str, tuple[str, ...]],
    target: Target,
    ids: dict[str, str],
    plan_ids: dict[str, str],
) -> dict[str, tuple[Gate, ...]]:
    """Each layer's gates: the decisions its jobs wait on, where the target reads them.

    A decision by entry hooks is the legs of the decider's plan; a ``Catch`` decider's is its
    job's ``finished`` output, which a target that cannot read a skipped job's outputs (Argo)
    only reads from a decider that always runs; otherwise the shim records the skip.
    """
    found: dict[str, tuple[Gate, ...]] = {}
    for name in ir.order:
        gates: list[Gate] = []
        for decider in waits[name] if target.native_skips else ():
            spec = ir.spec(decider)
            if spec.has_entry:
                gates.append(Gate(decider, plan_ids[decider], "legs", ids[decider]))
            elif target.reads_skipped_outputs or not waits[decider]:
                gates.append(Gate(decider, ids[decider], "finished", ids[decider]))
        found[name] = tuple(gates)
    return found


def _task_argv(
    spec: LayerSpec, options: CompileOptions, target: Target, branches: bool
) -> tuple[str, ...]:
    extra = ["--retry"] if target.shim_retries and spec.retry is not None else []
    if target.skipped_status and branches:  # only a flow that branches skips layers
        extra.append(f"--skipped-status={target.skipped_status}")
    return shim_argv(laminar_command(spec, options), TASK, options.flow_ref, spec.name, *extra)


def _finished_argv(reports: bool, formatted: bool, job: str, target: Target) -> tuple[str, ...]:
    """``--finished-output=PATH`` (and the output format) for a job whose decision gates
    later jobs; a target without a path (GitHub's ``$GITHUB_OUTPUT``) adds it itself."""
    if not reports:
        return ()
    extra = [] if formatted else ["--format", target.plan_format.value]
    output = target.finished_output(job)
    if output is not None:
        extra.append(f"--finished-output={output}")
    return tuple(extra)


def _plan_argv(
    spec: LayerSpec, mapped: str, options: CompileOptions, target: Target
) -> tuple[str, ...]:
    extra = _plan_format(target)
    output = target.plan_output(mapped)
    if output is not None:
        extra += ["--output", output]
    return shim_argv(laminar_command(spec, options), PLAN, options.flow_ref, spec.name, *extra)


def _plan_format(target: Target) -> list[str]:
    extra = ["--format", target.plan_format.value]
    max_legs = target.max_legs()
    if max_legs is not None:
        extra += ["--max-legs", str(max_legs)]
    return extra


def _then_plan_argv(planned: list[str], ids: dict[str, str], target: Target) -> tuple[str, ...]:
    """``--then-plan=L --plan-output=PATH`` for each ForEach layer a run job plans."""
    if not planned:
        return ()
    extra = _plan_format(target)
    for name in planned:
        extra += [f"--then-plan={name}", f"--plan-output={target.plan_output(ids[name])}"]
    return tuple(extra)


def _fused_plans(ir: FlowIR, waits: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Planned layer -> the upstream that plans it: where its only upstream runs once, and
    always runs (it waits on no decision), the plan needs nothing that upstream's job has
    not just committed. Entry hooks are the user's code: they are planned there only when
    that job has the layer's own container (image, environment, command)."""
    fused: dict[str, str] = {}
    for spec in ir.specs():
        if _planned(spec) and len(spec.dependencies) == 1:
            upstream = ir.spec(spec.dependencies[0])
            if _planned(upstream) or waits[upstream.name]:
                continue
            if spec.has_entry and spec.container != upstream.container:
                continue
            fused[spec.name] = upstream.name
    return fused


def _header(ir: FlowIR, options: CompileOptions, target: Target) -> tuple[str, ...]:
    """The generated file's header lines (the dialect escapes them as comments)."""
    lines = [
        f"Generated by laminar {__version__} from {options.flow_ref} "
        f"(target: {target.target}). Do not edit by hand.",
    ]
    if options.command:
        lines.append(f"Regenerate with: {options.command}")
    return tuple(lines)
