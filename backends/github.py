"""GitHub Actions: one job per layer, a planning job and a dynamic matrix per ForEach layer.

What differs from the other targets, and why:

* A ForEach layer ``L`` gets a planning job ``L-plan`` that runs ``laminar plan --format
  github`` into ``$GITHUB_OUTPUT``; ``L``'s job takes ``strategy.matrix`` from it with
  ``fromJSON``. The shim batches tasks into at most ``--max-legs`` legs (GitHub allows 256
  jobs per matrix), so a fan-out of any size fits.
* A dynamic matrix with no entries fails the whole run, so ``L`` is guarded with
  ``if: needs.L-plan.outputs.legs != '0'``. GitHub then marks ``L`` *skipped*, and a skipped
  job skips everything that needs it. A job after a ForEach layer therefore replaces the
  implicit ``success()`` with explicit checks: each need succeeded, or is a ForEach job that was
  skipped *because its plan succeeded with zero legs*. A failure anywhere upstream still stops
  every dependant (a failed or skipped plan never satisfies the check).
* GitHub has no step retry: the shim honours ``Retry`` itself (``--retry``).
* Data travels between jobs as workflow artifacts unless ``--datastore`` names a remote store.
  Each job downloads its ancestors' artifacts (and its own from earlier attempts) into a local
  datastore, records a checksum list, runs the shim, and uploads only the files that changed,
  under a name unique to the job, leg and attempt (v4 artifacts are immutable); a leg never
  downloads its siblings', which keeps a wide fan-out linear. Downloads go through the REST API
  (``github-token`` + ``run-id``, hence ``actions: read``) because only that path sees the
  artifacts of earlier attempts: "Re-run failed jobs" keeps ``github.run_id``, which is the
  execution id, so the re-run resumes from every committed task.
* Nothing from user code or from another job is pasted into a ``run:`` script: run-time values
  reach the shim through ``env:``, and every user string is escaped for YAML and for ``${{``.
  The workflow's ``name`` is the exception GitHub imposes: it is never evaluated, and a
  ``${{`` there stops the run from starting, so ``--name`` refuses it.
* A layer with ``Container(image=...)`` (or ``--image``) runs in that image (``container:``);
  the image provides Python, so setup-python is skipped. cpu/memory have no meaning here.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from typing import Any

from laminar.backends.base import (
    ENV_DATASTORE,
    ENV_EXECUTION,
    ENV_LEG,
    Backend,
    CompileOptions,
    Plan,
    Step,
)
from laminar.backends.escaping import github_text, shell_command, yaml_scalar
from laminar.backends.naming import NameRule
from laminar.errors import LaminarError

#: GitHub's limit on the jobs of one matrix.
MATRIX_LIMIT = 256
TRIGGERS = ("workflow_dispatch", "push")
DEFAULT_INSTALL = "python -m pip install ."
DEFAULT_PYTHON = "3.12"
DEFAULT_RUNS_ON = "ubuntu-latest"
#: Where a job keeps its copy of the datastore when artifacts carry the data.
LOCAL_DATASTORE = "${{ runner.temp }}/laminar-datastore"
ARTIFACT_PREFIX = "laminar"
#: At most this many job ids in one download pattern (see ``_pattern``).
PATTERN_IDS = 32
_SECRET = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*/,\-]+$")


@dataclass(frozen=True)
class Job:
    """One job of the workflow, with every expression already built from safe ids."""

    id: str
    #: The job's name in GitHub's UI.
    title: str
    layer: str
    needs: tuple[str, ...]
    #: The job's ``if:`` expression (without ``${{ }}``), or ``None`` for the default.
    condition: str | None
    #: Shim command line (already a shell command; escaped again for YAML by the template).
    command: str
    #: ``matrix`` expression for a ForEach layer's job; ``None`` otherwise.
    matrix: str | None
    #: True for a planning job (it exposes ``legs`` and ``matrix`` outputs).
    is_plan: bool
    #: Artifact name (may hold ``${{ matrix.leg }}``: built from safe ids only).
    artifact: str
    #: ``pattern`` of the artifacts to download before running.
    downloads: str
    #: The layer's container image, if any.
    image: str | None
    #: Extra environment for the shim step (from ``Container(env=...)``), sorted.
    env: tuple[tuple[str, str], ...]


class GitHubBackend(Backend):
    target = "github"
    max_output_bytes = 512_000
    output_limit = "GitHub's 500 KB limit for a workflow file"
    limit_fix = ", or use a remote --datastore (its jobs have no artifact steps)"
    description = "GitHub Actions workflow"
    rule = NameRule(allowed="_a-zA-Z0-9-", max_length=100, first="[_a-zA-Z]")
    template = "github.yml.j2"
    plan_suffix = "-plan"

    @classmethod
    def add_arguments(cls, group: argparse._ArgumentGroup) -> None:
        group.add_argument(
            "--on",
            dest="github_on",
            action="append",
            choices=TRIGGERS,
            help="event that starts the workflow (repeatable; default: workflow_dispatch)",
        )
        group.add_argument(
            "--schedule",
            dest="github_schedule",
            action="append",
            metavar="CRON",
            help="also start on this cron schedule, in UTC (repeatable)",
        )
        group.add_argument(
            "--runs-on",
            dest="github_runs_on",
            metavar="LABEL",
            help=f"runner label for every job (default: {DEFAULT_RUNS_ON})",
        )
        group.add_argument(
            "--python-version",
            dest="github_python_version",
            metavar="X.Y",
            help=f"Python that actions/setup-python installs (default: {DEFAULT_PYTHON})",
        )
        group.add_argument(
            "--install",
            dest="github_install",
            metavar="COMMAND",
            help="shell command that installs laminar and the flow's dependencies in each job "
            f"(default: {DEFAULT_INSTALL!r}, the repository's own package)",
        )
        group.add_argument(
            "--max-parallel",
            dest="github_max_parallel",
            type=int,
            metavar="N",
            help="at most N legs of one ForEach layer run at once (default: GitHub's choice)",
        )
        group.add_argument(
            "--max-legs",
            dest="github_max_legs",
            type=int,
            metavar="N",
            help=f"batch a ForEach layer's tasks into at most N matrix jobs "
            f"(1..{MATRIX_LIMIT}, default {MATRIX_LIMIT})",
        )
        group.add_argument(
            "--secret",
            dest="github_secret",
            action="append",
            metavar="NAME",
            help="pass repository secret NAME to the tasks as environment variable NAME "
            "(repeatable; for example the remote datastore's credentials)",
        )
        group.add_argument(
            "--name",
            dest="github_name",
            help="the workflow's name in the Actions tab (default: the flow's class name)",
        )

    def context(self, plan: Plan, options: CompileOptions) -> dict[str, Any]:
        settings = _settings(options)
        foreach = {s.id: s for s in plan.steps if s.is_foreach}
        ancestors = _ancestors(plan)
        jobs: list[Job] = []
        for step in plan.steps:
            guard = _needs_condition(step.upstream, foreach)
            needs = _needs(step.upstream, foreach)
            # Artifacts a job reads: every ancestor's (a layer's data may point at its own
            # inputs' files), plus its own from earlier attempts so that a re-run resumes.
            above = ancestors[step.id]
            inputs = (
                None if above is None else [a for u in above for a in _artifact_ids(foreach, u)]
            )
            task = shell_command((*step.task_argv, "--retry"))
            if step.plan_argv is None or step.plan_id is None:
                jobs.append(
                    _job(
                        step, options, settings, step.id, needs, guard, task, _also(inputs, step.id)
                    )
                )
                continue
            plan_argv = (*step.plan_argv, "--max-legs", str(settings["max_legs"]))
            # "$GITHUB_OUTPUT" is appended outside the quoting: the shell expands it.
            plan_command = shell_command((*plan_argv, "--format", "github", "--output"))
            jobs.append(
                _job(
                    step,
                    options,
                    settings,
                    step.plan_id,
                    needs,
                    guard,
                    plan_command + ' "$GITHUB_OUTPUT"',
                    _also(inputs, step.plan_id),
                    is_plan=True,
                )
            )
            leg = f"{step.id}.${{{{ matrix.leg }}}}"
            jobs.append(
                _job(
                    step,
                    options,
                    settings,
                    step.id,
                    (step.plan_id,),
                    f"needs.{step.plan_id}.outputs.legs != '0'",
                    task,
                    _also(inputs, step.plan_id, leg),
                    matrix=f"fromJSON(needs.{step.plan_id}.outputs.matrix)",
                    artifact=leg,
                )
            )
        context = super().context(plan, options)
        context.update(
            name=settings["name"] or plan.flow,
            triggers=settings["on"],
            schedules=settings["schedule"],
            runs_on=settings["runs_on"],
            python_version=settings["python_version"],
            install=settings["install"],
            max_parallel=settings["max_parallel"],
            jobs=jobs,
            uses_artifacts=options.datastore is None,
            local_datastore=LOCAL_DATASTORE,
            datastore=options.datastore,
            env_execution=ENV_EXECUTION,
            env_datastore=ENV_DATASTORE,
        )
        return context


def _job(
    step: Step,
    options: CompileOptions,
    settings: dict[str, Any],
    id: str,
    needs: tuple[str, ...],
    condition: str | None,
    command: str,
    inputs: tuple[str, ...] | None,
    *,
    is_plan: bool = False,
    matrix: str | None = None,
    artifact: str | None = None,
) -> Job:
    container = step.spec.container
    attempt = "${{ github.run_attempt }}"
    return Job(
        id=id,
        title=f"{step.name} (plan)" if is_plan else step.name,
        layer=step.name,
        needs=needs,
        condition=condition,
        command=command,
        matrix=matrix,
        is_plan=is_plan,
        artifact=f"{ARTIFACT_PREFIX}.{artifact or id}.{attempt}",
        downloads=_pattern(inputs),
        image=(container.image if container is not None else None) or options.image,
        env=_shim_env(step, options, settings, leg=matrix is not None),
    )


def _shim_env(
    step: Step, options: CompileOptions, settings: dict[str, Any], *, leg: bool
) -> tuple[tuple[str, str], ...]:
    """The shim step's ``env:`` as (name, YAML scalar) pairs: user values escaped as data."""
    env: dict[str, str] = {}
    container = step.spec.container
    for key, value in (container.env if container is not None else {}).items():
        if key in (ENV_EXECUTION, ENV_DATASTORE, ENV_LEG):
            raise LaminarError(
                f"Layer {step.name} sets {key} in Container(env=...); laminar sets it itself."
            )
        env[key] = yaml_scalar(github_text(value))
    for name in settings["secrets"]:
        if name in env:
            raise LaminarError(
                f"--secret {name}: layer {step.name} already sets {name} in Container(env=...)."
            )
        env[name] = yaml_scalar(f"${{{{ secrets.{name} }}}}")
    if options.datastore is None:
        env[ENV_DATASTORE] = yaml_scalar(LOCAL_DATASTORE)
    if leg:
        env[ENV_LEG] = yaml_scalar("${{ matrix.leg }}")
    return tuple(env.items())


def _ancestors(plan: Plan) -> dict[str, tuple[str, ...] | None]:
    """Each step's transitive upstream ids in the plan's (topological) order, or ``None``
    when there are more than ``PATTERN_IDS`` (the job then downloads every artifact).

    Capping here keeps compiling a long chain linear: no step carries more than a few dozen
    ancestors, and a step below a capped one is capped too.
    """
    position = {s.id: i for i, s in enumerate(plan.steps)}
    found: dict[str, set[str] | None] = {}
    for step in plan.steps:
        parents = [found[u] for u in step.upstream]
        if any(p is None for p in parents):
            found[step.id] = None
            continue
        union = set(step.upstream).union(*(p for p in parents if p is not None))
        found[step.id] = union if len(union) <= PATTERN_IDS else None
    return {
        sid: None if ids is None else tuple(sorted(ids, key=position.__getitem__))
        for sid, ids in found.items()
    }


def _artifact_ids(foreach: dict[str, Step], step_id: str) -> tuple[str, ...]:
    plan_id = foreach[step_id].plan_id if step_id in foreach else None
    return (step_id,) if plan_id is None else (plan_id, step_id)


def _also(inputs: list[str] | None, *own: str) -> tuple[str, ...] | None:
    """The job ids whose artifacts a job downloads: its inputs plus its own (re-runs)."""
    return None if inputs is None else (*inputs, *own)


def _pattern(ids: tuple[str, ...] | None) -> str:
    """A download-artifact ``pattern`` (minimatch) for the artifacts of ``ids``, any attempt.

    Artifact names are ``laminar.<job id>[.<leg>].<attempt>``; job ids contain no ``.``,
    so ``laminar.X.*`` never matches another job's artifacts.
    """
    unique = list(dict.fromkeys(ids or ()))
    if ids is None or len(unique) > PATTERN_IDS:
        # Past this many ancestors, download every laminar artifact of the run (a superset):
        # listing them all would make a long chain's workflow grow with the square of its
        # length, past GitHub's 500 KB workflow limit.
        return f"{ARTIFACT_PREFIX}.*"
    body = unique[0] if len(unique) == 1 else "{" + ",".join(unique) + "}"
    return f"{ARTIFACT_PREFIX}.{body}.*"


def _needs(upstream: tuple[str, ...], foreach: dict[str, Step]) -> tuple[str, ...]:
    """Upstream jobs, plus the planning job of each ForEach upstream (its ``legs`` is read)."""
    needs: list[str] = []
    for up in upstream:
        plan_id = foreach[up].plan_id if up in foreach else None
        if plan_id is not None:
            needs.append(plan_id)
        needs.append(up)
    return tuple(needs)


def _needs_condition(upstream: tuple[str, ...], foreach: dict[str, Step]) -> str | None:
    """``None`` (GitHub's implicit ``success()``) unless an upstream job may be skipped empty."""
    if not any(up in foreach for up in upstream):
        return None
    checks = ["!cancelled()"]
    for up in upstream:
        plan_id = foreach[up].plan_id if up in foreach else None
        if plan_id is None:
            checks.append(f"needs.{up}.result == 'success'")
        else:
            checks.append(
                f"(needs.{up}.result == 'success' || (needs.{up}.result == 'skipped' && "
                f"needs.{plan_id}.result == 'success' && needs.{plan_id}.outputs.legs == '0'))"
            )
    return " && ".join(checks)


def _settings(options: CompileOptions) -> dict[str, Any]:
    """Validate the target's options; a bad value fails at compile time, not on GitHub."""
    max_legs = options.get("github_max_legs", MATRIX_LIMIT)
    if not 1 <= max_legs <= MATRIX_LIMIT:
        raise LaminarError(
            f"--max-legs {max_legs}: GitHub runs at most {MATRIX_LIMIT} jobs per matrix; "
            f"choose 1..{MATRIX_LIMIT}."
        )
    max_parallel = options.get("github_max_parallel")
    if max_parallel is not None and max_parallel < 1:
        raise LaminarError(f"--max-parallel {max_parallel} must be at least 1.")
    secrets = list(dict.fromkeys(options.get("github_secret", [])))
    for name in secrets:
        if not _SECRET.match(name) or name.upper().startswith("GITHUB_"):
            raise LaminarError(
                f"--secret {name!r}: a secret name has letters, digits and _, does not start "
                "with a digit or GITHUB_, such as AWS_SECRET_ACCESS_KEY."
            )
        if name in (ENV_EXECUTION, ENV_DATASTORE, ENV_LEG):
            raise LaminarError(f"--secret {name}: that variable is set by laminar itself.")
    if secrets and options.datastore is None:
        raise LaminarError(
            "--secret passes credentials to a remote datastore; add --datastore URL "
            "(without it, data travels as workflow artifacts and needs no secret)."
        )
    schedules = list(options.get("github_schedule", []))
    for cron in schedules:
        fields = cron.split()
        if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
            raise LaminarError(
                f"--schedule {cron!r}: GitHub takes a 5-field cron expression in UTC, "
                "such as '30 5 * * 1-5'."
            )
    name = options.get("github_name")
    if name is not None and ("${{" in name or not name.isprintable() or not name.strip()):
        # GitHub refuses to start a workflow whose name holds an expression, and has no
        # escape for ``${{`` there (``run-name`` would, but ``name`` is what the UI lists).
        raise LaminarError(
            f"--name {name!r}: a workflow name is one non-empty line without '${{{{'."
        )
    for option, value in (
        ("--runs-on", options.get("github_runs_on")),
        ("--python-version", options.get("github_python_version")),
        ("--install", options.get("github_install")),
    ):
        if value is not None and not str(value).strip():
            raise LaminarError(f"{option} must not be empty.")
    return {
        "max_legs": max_legs,
        "max_parallel": max_parallel,
        "secrets": secrets,
        "schedule": schedules,
        "on": list(dict.fromkeys(options.get("github_on", ["workflow_dispatch"]))),
        "runs_on": options.get("github_runs_on", DEFAULT_RUNS_ON),
        "python_version": options.get("github_python_version", DEFAULT_PYTHON),
        "install": options.get("github_install", DEFAULT_INSTALL),
        "name": name,
    }
