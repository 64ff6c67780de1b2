"""GitHub Actions: one job per job of the lowered graph, a dynamic matrix per ForEach layer.

What differs from the defaults is here; a job's steps are built in ``steps.py`` (the artifact
steps around the shim in ``artifacts.py``), the triggers in ``dispatch.py``, the expressions
in ``spec.py``.

What differs from the other targets, and why:

* A ``PLAN`` job runs ``laminar plan --format github`` into ``$GITHUB_OUTPUT``; its
  ``MAPPED`` job takes ``strategy.matrix`` from it with ``fromJSON``. A fan-out after a layer
  that runs once is planned by that layer's job (``laminar task --then-plan``), which then
  has the ``legs-<job>`` and ``matrix-<job>`` outputs of each fan-out it plans (``--plan-key``
  names their lines): no job of its own (``backends/fusion.py``). Where that layer may be
  skipped, the job that skips it plans it instead (``--plan-if-ended``), and the fan-out
  reads ``a || b`` of the two jobs' outputs (``conditions.Legs``): a skipped job's are empty. The
  shim batches tasks into at most ``--max-legs`` legs (GitHub allows 256 jobs per matrix), so
  any fan-out fits.
* A dynamic matrix with no entries fails the whole run, so the ``MAPPED`` job runs only when
  its plan has legs; with none, GitHub marks it *skipped*. GitHub then skips every job with
  the implicit ``success()`` that has a skipped job ANYWHERE up its ``needs`` chain
  (actions/runner#2205), so every job that has needs states its own condition instead: each
  direct need succeeded, or is a fan-out skipped because its plan succeeded with zero legs
  (``conditions.needs_succeeded``). A failure anywhere upstream still stops every dependant.
* Branching is decided by the shim; jobs only follow it. A layer with an entry hook is
  planned (1 leg or 0), so a skipped layer shows as a skipped job. Each ``Gate`` adds one
  term to the job's ``if:`` (``legs != '0'``; a ``Catch`` job's ``finished == 'true'``,
  written with ``--finished-output "$GITHUB_OUTPUT"``) and its decider to ``needs``: GitHub
  reads outputs of direct needs only. A skipped job's outputs read as ``''``
  (``reads_skipped_outputs``), so a gate on a skipped ``Catch`` job is false. A hook layer's
  plan (``after_skips``) runs when its needs succeeded or were skipped, with ``!failure()``
  (any ancestor failed) instead of the per-need ``success``: its hooks decide.
* GitHub has no step retry: the shim honours ``Retry`` itself (``retries_in_shim``).
* Data travels between jobs as workflow artifacts unless ``--datastore`` names a remote store
  (``artifacts.py``): each job downloads its ancestors' artifacts (and its own from earlier
  attempts) and uploads the files it wrote. "Re-run failed jobs" keeps ``github.run_id``, the
  execution id, so a re-run resumes from every committed task.
* Nothing from user code or from another job is pasted into a ``run:`` script: run-time values
  reach the shim through ``env:``; every expression is built in ``spec.py`` from legal ids and
  every other string is escaped for ``${{`` (``github_text``) and for YAML when written.
* A layer with ``Container(image=...)`` (or ``--image``) runs in that image (``container:``);
  the image provides Python, so setup-python is skipped. cpu/memory have no meaning here.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import ClassVar

from laminar.backends.dialect import Dialect
from laminar.backends.document import Expression, to_yaml
from laminar.backends.escaping import github_text, shell_command, shell_word
from laminar.backends.github import conditions
from laminar.backends.github import spec as gh
from laminar.backends.github.artifacts import Inputs, download_ids
from laminar.backends.github.dispatch import (
    concurrency_of,
    dispatch_inputs,
    no_cache_env,
    schedule_of,
)
from laminar.backends.github.options import GitHubOptions, workflow_name
from laminar.backends.github.steps import SHIM, minutes, steps
from laminar.backends.jobs import Job, JobGraph, JobKind, OutputKind
from laminar.backends.naming import NameRule
from laminar.backends.traits import Traits
from laminar.contract import ENV_DATASTORE, ENV_EXECUTION, ENV_INPUTS, PlanFormat, file_named_by
from laminar.errors import CompileWarning


class GitHubDialect(Dialect):
    target = "github"
    description = "GitHub Actions workflow"
    chaining = (
        "a last job that dispatches the next workflow (gh workflow run NEXT.yml -f "
        "input=value, with permissions: actions: write)"
    )
    options_class = GitHubOptions
    TRAITS = Traits(
        name_rule=NameRule(allowed="_a-zA-Z0-9-", max_length=100, first="[_a-zA-Z]"),
        # legs=, count= and matrix= lines: the matrix job reads them with fromJSON.
        plan_format=PlanFormat.GITHUB,
        # Every output is a name=value line in the step's $GITHUB_OUTPUT file.
        output_path=file_named_by("GITHUB_OUTPUT"),
        # GitHub has no step retry: the shim runs the attempts.
        retries_in_shim=True,
        # A fan-out after a layer that runs once takes its matrix from that layer's job.
        fuse_plans=True,
        # A skipped job's outputs read as empty strings, so a ``Catch`` gate (``== 'true'``)
        # on a skipped job is simply false.
        reads_skipped_outputs=True,
    )
    max_output_bytes: ClassVar[int | None] = 512_000
    output_limit = "GitHub's 500 KB limit for a workflow file"
    limit_fix = ", or use a remote --datastore (its jobs have no artifact steps)"
    settings: GitHubOptions
    #: Per job, the artifacts it downloads (``artifacts.download_ids``; none: a remote
    #: datastore), made once per graph by ``render``.
    downloads: dict[str, Inputs | None]

    @property
    def traits(self) -> Traits:
        return replace(self.TRAITS, max_legs=self.settings.max_legs)

    def dropped(self) -> dict[str, str]:
        runner = "choose a runner that has it with Container(runs_on=[...labels])"
        names = ("cpu", "memory", "gpu", "node_selector", "tolerations", "queue")
        return {**dict.fromkeys(names, runner), "pool": self.NO_POOLS}

    # -- one method per kind of job: (job id, Job) -----------------------------------------
    def run_job(self, graph: JobGraph, job: Job) -> tuple[str, gh.Job]:
        title = f"{job.layer} (plan)" if job.kind is JobKind.PLAN else job.layer
        verb = "Plan" if job.kind is JobKind.PLAN else "Run"
        built = self.job(graph, job, title, f"{verb} {job.layer}", shell_command(job.argv))
        return job.id, replace(built, outputs=self.outputs(job))

    #: A planning job is a job like any other: its outputs are the legs (and matrix).
    plan_job = run_job

    def outputs(self, job: Job) -> dict[str, Expression] | None:
        """The job's outputs, read from the shim step's ``$GITHUB_OUTPUT`` lines; a plan's
        legs come with the ``matrix`` its mapped job reads."""
        names: list[str] = []
        for output in job.outputs:
            names.append(output.name)
            if output.kind is OutputKind.LEGS:
                names.append(conditions.Legs(job.id, output.name).matrix_name)
        return {name: gh.step_output(SHIM, name) for name in names} or None

    def mapped_job(self, graph: JobGraph, job: Job) -> tuple[str, gh.Job]:
        legs = self.legs(graph, job.id)
        built = self.job(graph, job, job.layer, f"Run {job.layer}", shell_command(job.argv))
        caps = [cap for cap in (self.settings.max_parallel, job.concurrency) if cap is not None]
        strategy = gh.Strategy(max_parallel=min(caps, default=None), matrix=legs.matrix)
        # Its other needs: those that fan out over the same legs ran, since it has legs.
        others = [
            (need, None if theirs == legs else theirs)
            for need, theirs in self.checks(graph, job)
            if need != legs.job
        ]
        condition = conditions.has_legs(legs, job.gates, others, after_skips=job.after_skips)
        # A layer that runs once may plan what follows it in its one leg (``Fusion``).
        return job.id, replace(built, if_=condition, strategy=strategy, outputs=self.outputs(job))

    def exit_job(self, graph: JobGraph, job: Job) -> tuple[str, gh.Job]:
        """The flow's exit hooks: a last job that needs every other and runs whatever
        happened (``if: always()``), told how the run ended by the needs' results."""
        built = self.job(graph, job, "Exit hooks", "Run the exit hooks", shell_command(job.argv))
        return job.id, replace(built, if_=gh.expression("always()"))

    def job(self, graph: JobGraph, job: Job, title: str, step: str, command: str) -> gh.Job:
        """The job every kind shares: needs, condition, runner, container and steps.

        ``needs`` holds the jobs it waits for, the plans of those that are fan-outs (an empty
        one is skipped) and the jobs whose outputs its gates read: GitHub lets a job read the
        outputs of its direct needs only.
        """
        checks = self.checks(graph, job)
        needs = [n for need, legs in checks for n in ((legs.job, need) if legs else (need,))]
        needs += [name for gate in job.gates for name in (gate.job, *gate.otherwise)]
        return gh.Job(
            name=title,
            needs=tuple(dict.fromkeys(needs)),
            if_=conditions.needs_succeeded(checks, job.gates, after_skips=job.after_skips)
            if checks or job.gates
            else None,
            runs_on=job.placement.runs_on or self.settings.runs_on,
            timeout_minutes=minutes(graph.timeout),
            container=None
            if job.image is None
            else gh.Container(
                job.image,
                options=None if job.workdir is None else f"--workdir {shell_word(job.workdir)}",
            ),
            steps=steps(
                self.settings,
                self.options.laminar,
                graph,
                job,
                step,
                command,
                self.downloads.get(job.id),  # the exit job: None, every artifact
            ),
        )

    def checks(self, graph: JobGraph, job: Job) -> list[tuple[str, conditions.Legs | None]]:
        """Each job ``job`` waits for, with the legs of those that are fan-outs (an empty one
        is skipped, and its plan is needed to tell that skip from one after a failure)."""
        return [
            (need, self.legs(graph, need) if graph.skippable(need) else None) for need in job.after
        ]

    @staticmethod
    def legs(graph: JobGraph, mapped: str) -> conditions.Legs:
        """Where ``MAPPED`` job ``mapped`` reads its legs: an output of the job that plans it."""
        job = graph.job(mapped)
        return conditions.Legs(job.plan or "", graph.legs_of(mapped).name, job.plan_otherwise)

    # -- the workflow -----------------------------------------------------------------------
    def render(self, graph: JobGraph) -> str:
        settings = self.settings
        if graph.timeout is not None:
            warnings.warn(
                f"Flow {graph.flow}: GitHub Actions has no limit on a whole run, so "
                f"timeout={graph.timeout:g} limits each job instead (timeout-minutes: "
                f"{minutes(graph.timeout)}); to bound the run, give each layer a "
                "register(timeout=...) that adds up to it.",
                CompileWarning,
                stacklevel=2,
            )
        artifacts = graph.datastore is None
        self.downloads = download_ids(graph) if artifacts else {}
        on: dict[str, object] = dict.fromkeys(settings.on)
        dispatched = "workflow_dispatch" in on
        if (graph.inputs or graph.cached) and dispatched:
            on["workflow_dispatch"] = {"inputs": dispatch_inputs(graph)}
        schedule = schedule_of(graph, settings.schedule)
        if schedule:
            on["schedule"] = schedule
        env: dict[str, str] = {ENV_EXECUTION: gh.run_id()}
        if graph.inputs:
            # Typed values of a manual run; other events give {} and the shim uses defaults.
            env[ENV_INPUTS] = gh.all_inputs()
        if dispatched:
            env.update(no_cache_env(graph))
        if graph.datastore is not None:
            env[ENV_DATASTORE] = graph.datastore
        workflow = gh.Workflow(
            name=settings.name or workflow_name(graph.flow, "The flow's class name"),
            on=on,
            permissions=gh.Permissions(actions="read" if artifacts else None),
            defaults=gh.Defaults(gh.RunDefaults("bash")),
            env=env,
            jobs=dict(
                [self.translate(graph, job) for job in graph.jobs]
                + ([self.exit_job(graph, graph.exit)] if graph.exit is not None else [])
            ),
            concurrency=concurrency_of(graph),
        )
        # The flow's docstring heads the file: a workflow has no description field.
        comments = graph.header
        if graph.description:
            comments = (*comments, "", *graph.description.splitlines())
        return to_yaml(workflow, comments=comments, text=github_text, plain_keys=frozenset({"on"}))
