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

Every job leaves here finished: its complete shim command (outputs included, at the paths the
target's ``Traits`` give), its typed ``Output``s and the links between a plan and the job it
feeds. A dialect (``backends/dialect.py`` and one sub-package per target) only translates this
graph into its target's syntax: it never adds to a command, derives a path or re-decides what
a job means.
"""

from __future__ import annotations

from dataclasses import replace

from laminar import __version__
from laminar.backends.checks import checked, scheduled
from laminar.backends.container import (
    env_of,
    image_of,
    laminar_command,
    placement_of,
    resources_of,
    retry_of,
    secrets_of,
    timeout_of,
)
from laminar.backends.fusion import Fusion, leaders, planned
from laminar.backends.jobs import Gate, Job, JobGraph, JobKind, Output, OutputKind, Placement
from laminar.backends.naming import assign_ids
from laminar.backends.options import CompileOptions
from laminar.backends.sizing import (
    plan_arguments,
    resources_output,
    sizes_pods,
    then_plan_arguments,
)
from laminar.backends.traits import Traits
from laminar.contract import EXIT, PLAN, TASK, check_datastore_url, shim_argv
from laminar.errors import CompileError
from laminar.ir import FlowIR, LayerSpec
from laminar.ir.branching import deciders

__all__ = ["CompileOptions", "lower"]


def lower(ir: FlowIR, options: CompileOptions, traits: Traits, target: str) -> JobGraph:
    """Build the job graph of ``ir`` for a target with ``traits`` (``target`` names it in
    the header). Raises ``CompileError``."""
    if options.datastore is not None:
        checked(check_datastore_url, options.datastore, "--datastore")
    shape = Shape(ir, options, traits)
    jobs: list[Job] = []
    for spec in ir.specs():
        base = shape.base(spec)
        if not planned(spec, traits):
            jobs.append(shape.run_job(spec, base))
            continue
        if spec.name not in shape.fused and spec.follows is None:
            jobs.append(shape.plan_job(spec, base))
        jobs.append(shape.mapped_job(spec, base))
    return JobGraph(
        exit=shape.exit_job(jobs),
        flow=ir.name,
        flow_ref=options.flow_ref,
        datastore=options.datastore,
        jobs=tuple(jobs),
        header=_header(options, target),
        inputs=ir.inputs,
        timeout=ir.settings.timeout,
        description=ir.description,
        schedule=scheduled(ir),
        max_active_runs=ir.settings.max_active_runs,
    )


class Shape:
    """The flow's jobs before they are built: ids, which plans are fused into the job
    before them, the outputs every job writes and the gates every job waits on; then one
    builder per kind of job."""

    def __init__(self, ir: FlowIR, options: CompileOptions, traits: Traits) -> None:
        self.ir, self.options, self.traits = ir, options, traits
        layers = list(ir.order)
        self.ids = assign_ids(layers, traits.name_rule, reserved=traits.reserved)
        self.waits = deciders(ir)
        self.fusion = Fusion(ir, self.waits, traits)
        self.fused = self.fusion.fused
        self.otherwise = self.fusion.otherwise
        self.leader = leaders(ir, traits)
        own = [name for name, leader in self.leader.items() if leader == name]
        self.plan_ids = assign_ids(
            [name for name in own if name not in self.fused],
            traits.name_rule,
            reserved=[*traits.reserved, *self.ids.values()],
            suffix=traits.plan_suffix,
        )
        self.plan_ids.update((name, self.ids[up]) for name, up in self.fused.items())
        self.plan_ids.update((name, self.plan_ids[up]) for name, up in self.leader.items())
        legs = {name: self.legs_output(name) for name in own}
        self.legs = {name: legs[leader] for name, leader in self.leader.items()}
        self.gates = {name: self.gates_of(name) for name in layers}
        reporters = {g.layer for gates in self.gates.values() for g in gates}
        self.finished = {
            name: self.finished_output(name)
            for name in reporters
            if not planned(ir.spec(name), traits)
        }

    # -- outputs and gates ------------------------------------------------------------------
    def legs_output(self, name: str) -> Output:
        """Where the legs of planned layer ``name`` go, on the job that plans it."""
        mapped = self.ids[name]
        own = name not in self.fused
        followers = [self.ids[f] for f, leader in self.leader.items() if leader == name != f]
        return Output(
            OutputKind.LEGS,
            "legs" if own or self.traits.one_plan_per_job else f"legs-{mapped}",
            self.traits.output(OutputKind.LEGS.value, mapped),
            feeds=(mapped, *followers),
        )

    def finished_output(self, name: str) -> Output:
        job = self.ids[name]
        kind = OutputKind.FINISHED.value
        return Output(OutputKind.FINISHED, kind, self.traits.output(kind, job))

    def gates_of(self, name: str) -> tuple[Gate, ...]:
        """The decisions layer ``name``'s jobs wait on, where the target reads them.

        A decision by entry hooks is the legs of the decider's plan; a ``Catch`` decider's is
        its job's ``finished`` output, which a target that cannot read a skipped job's
        outputs (Argo) only reads from a decider that always runs; otherwise the shim
        records the skip.
        """
        if not self.traits.native_skips:
            return ()
        gates: list[Gate] = []
        for decider in self.waits[name]:
            if self.ir.spec(decider).has_entry:
                otherwise = self.plan_otherwise(decider)
                gates.append(Gate(decider, self.plan_ids[decider], self.legs[decider], otherwise))
            elif self.traits.reads_skipped_outputs or not self.waits[decider]:
                output = self.finished_output(decider)
                gates.append(Gate(decider, self.ids[decider], output))
        return tuple(gates)

    # -- one builder per kind of job --------------------------------------------------------
    def base(self, spec: LayerSpec) -> Job:
        """What every job of ``spec`` shares: what it runs in, its retries and gates."""
        container = spec.settings.container
        return Job(
            id=self.ids[spec.name],
            kind=JobKind.RUN,
            spec=spec,
            after=tuple(self.ids[dependency] for dependency in spec.dependencies),
            argv=self.task_argv(spec),
            image=image_of(spec, self.options, self.traits.needs_image),
            env=env_of(spec),
            secrets=secrets_of(spec),
            placement=placement_of(spec),
            retry=None if self.traits.retries_in_shim else retry_of(spec),
            resources=resources_of(spec),
            workdir=container.workdir if container is not None else None,
            timeout=timeout_of(spec, self.traits.retries_in_shim),
            executable=len(laminar_command(spec, self.options)),
            gates=self.gates[spec.name],
        )

    def run_job(self, spec: LayerSpec, base: Job) -> Job:
        """A layer that runs once; it also plans the layers fused into it and reports
        whether it finished when a gate reads that."""
        return self.then_plans(spec, base)

    def then_plans(self, spec: LayerSpec, job: Job) -> Job:
        """``job`` of a layer that runs once, planning at its end what is fused into it
        (``--then-plan``; ``--plan-if-ended`` for a plan it makes only when what the plan
        reads was skipped here), and writing ``finished`` when a gate reads that."""
        made = self.plans_made_by(spec.name)
        plans = [self.legs[name] for name, _ in made]
        finished = self.finished.get(spec.name)
        extra: list[str] = []
        if plans:
            extra += self.plan_format()
        elif finished is not None:  # the output's format only
            extra += ["--format", self.traits.plan_format.value]
        for name, if_ended in made:
            extra += [f"--then-plan={name}", f"--plan-output={self.legs[name].path}"]
            if self.traits.plan_format.appends:  # named lines in one file: legs-<job>=...
                extra.append(f"--plan-key={name}={self.ids[name]}")
            if if_ended:
                extra.append(f"--plan-if-ended={name}")
        sizes = {
            name: resources_output(self.traits, self.ids[name], own=False)
            for name, _ in made
            if sizes_pods(self.ir.spec(name), self.traits)
        }
        extra += then_plan_arguments(self.traits, sizes)
        plans += sizes.values()
        if finished is not None:
            extra.append(f"--finished-output={finished.path}")
        outputs = (*plans, *([finished] if finished else []))
        return replace(job, argv=job.argv + tuple(extra), outputs=outputs)

    def plans_made_by(self, name: str) -> list[tuple[str, bool]]:
        """The planned layers whose plans the job of ``name`` makes, in run order, each with
        whether it makes it only when what the plan reads was skipped (``Fusion.otherwise``)."""
        made = {planned: False for planned, up in self.fused.items() if up == name}
        made.update({planned: True for planned, jobs in self.otherwise.items() if name in jobs})
        return [(layer, made[layer]) for layer in self.ir.order if layer in made]

    def plan_job(self, spec: LayerSpec, base: Job) -> Job:
        """A layer's entry hooks (the user's code: everything the layer's tasks get), or a
        fan-out's plan, which only counts: the cluster's default resources, no secrets or
        placement, and the compile options' image (never a heavy layer image pulled to
        count). Where the target sizes pods from the layer's hooks, the plan also writes what
        each leg's pod asks for per attempt: an output of its own, or (where a job's outputs
        share one file) inside the legs (``--format sized``)."""
        legs = self.legs[spec.name]
        sizing = sizes_pods(spec, self.traits)
        own = sizing and not self.traits.outputs_share_file
        sizes = resources_output(self.traits, self.ids[spec.name], own=True) if own else None
        outputs = (legs, sizes) if sizes else (legs,)
        job = replace(
            base,
            id=self.plan_ids[spec.name],
            kind=JobKind.PLAN,
            outputs=outputs,
            after_skips=spec.has_entry,
            apart=self.fusion.apart[spec.name],
        )
        command = laminar_command(spec, self.options)
        if not (spec.has_entry or sizing):  # neither runs the user's hooks
            job = replace(job, resources=None, secrets=(), placement=Placement())
            default = self.options.image
            if default is not None and job.image != default:
                command = self.options.laminar
                job = replace(job, image=default, workdir=None, executable=len(command))
        fmt, after = self.plan_format(), tuple[str, ...]()
        if sizing:  # what each leg's pod asks for, too
            fmt, after = plan_arguments(self.traits, fmt, sizes)
        argv = shim_argv(
            command, PLAN, self.options.flow_ref, spec.name, *fmt, "--output", legs.path, *after
        )
        return replace(job, argv=argv)

    def mapped_job(self, spec: LayerSpec, base: Job) -> Job:
        """The legs of a planned layer, fanned out over what its plan printed."""
        plan_id = self.plan_ids[spec.name]
        foreach = spec.settings.foreach
        concurrency = foreach.concurrency if foreach is not None else None
        # A layer following another's legs waits for that layer's tasks, whose job already
        # waits for the plan. One planned by an earlier job waits for its own upstreams too,
        # and where its hooks decide, runs even when those were skipped.
        otherwise = self.plan_otherwise(spec.name)
        after: tuple[str, ...] = (plan_id,)
        if spec.follows is not None:
            after = (self.ids[spec.follows],)
        elif spec.name in self.fused:
            after = tuple(dict.fromkeys((*base.after, plan_id, *otherwise)))
        job = replace(
            base,
            kind=JobKind.MAPPED,
            after=after,
            plan=plan_id,
            plan_otherwise=otherwise,
            concurrency=concurrency,
            after_skips=spec.has_entry and after != (plan_id,),
        )
        # A layer that runs once plans, at the end of its one leg, what is fused into it.
        return job if spec.is_foreach else self.then_plans(spec, job)

    def plan_otherwise(self, name: str) -> tuple[str, ...]:
        """The jobs that plan layer ``name`` (or the layer whose legs it follows) when the
        job of what its plan reads was skipped (``Fusion.otherwise``)."""
        return tuple(self.ids[layer] for layer in self.otherwise.get(self.leader[name], ()))

    def exit_job(self, jobs: list[Job]) -> Job | None:
        """The flow's exit hooks (``laminar exit FLOW``), after every job, in the compile
        options' image: ``None`` when the flow has none."""
        if not self.ir.exits:
            return None
        taken = [*self.traits.reserved, *(job.id for job in jobs)]
        job_id = assign_ids(["on-exit"], self.traits.name_rule, reserved=taken)["on-exit"]
        image = self.options.image
        if image is None and self.traits.needs_image:
            raise CompileError(
                f"Flow {self.ir.name} has exit hooks, which run in a pod of their own: pass "
                "--image IMAGE."
            )
        command = self.options.laminar
        extra = ("--fail-if-run-failed",) if self.traits.exit_reports_run else ()
        hooks = ", ".join(hook.name for hook in self.ir.exits)
        spec = LayerSpec(name=f"{self.ir.name} exit hooks ({hooks})", arguments=(), dependencies=())
        return Job(
            id=job_id,
            kind=JobKind.EXIT,
            spec=spec,
            after=tuple(job.id for job in jobs),
            argv=(*command, EXIT, self.options.flow_ref, *extra),
            image=image,
            executable=len(command),
        )

    # -- command lines ----------------------------------------------------------------------
    def task_argv(self, spec: LayerSpec) -> tuple[str, ...]:
        extra = ["--retry"] if self.traits.retries_in_shim and spec.settings.retry else []
        if self.traits.skipped_status and self.ir.branches:  # only a flow that branches skips
            extra.append(f"--skipped-status={self.traits.skipped_status}")
        command = laminar_command(spec, self.options)
        return shim_argv(command, TASK, self.options.flow_ref, spec.name, *extra)

    def plan_format(self) -> list[str]:
        extra = ["--format", self.traits.plan_format.value]
        if self.traits.max_legs is not None:
            extra += ["--max-legs", str(self.traits.max_legs)]
        return extra


def _header(options: CompileOptions, target: str) -> tuple[str, ...]:
    """The generated file's header lines (the dialect escapes them as comments)."""
    lines = [
        f"Generated by laminar {__version__} from {options.flow_ref} "
        f"(target: {target}). Do not edit by hand.",
    ]
    if options.command:
        lines.append(f"Regenerate with: {options.command}")
    return tuple(lines)
