"""The steps of every GitHub job: check out, set up Python, cache pip's downloads, install,
then the shim, with the artifact steps around it when artifacts carry the datastore.

The shim step gets run-time values through ``env:`` only (nothing is pasted into its
``run:`` script): the layer's env and secrets, the repository secrets ``--secret`` names,
the leg and the try number.
"""

from __future__ import annotations

import hashlib
import math

from laminar.backends.github import spec as gh
from laminar.backends.github.artifacts import LOCAL_DATASTORE, Inputs, around_shim
from laminar.backends.github.options import GitHubOptions
from laminar.backends.jobs import Job, JobGraph, JobKind
from laminar.contract import ENV_ATTEMPT, ENV_DATASTORE, ENV_LEG, ENV_RUN_STATUS, ENV_SIGNING_KEY
from laminar.errors import CompileError

#: The shim step's id: a planning job's outputs read it.
SHIM = "shim"


def steps(
    settings: GitHubOptions,
    laminar: tuple[str, ...],
    graph: JobGraph,
    job: Job,
    name: str,
    command: str,
    downloads: Inputs | None,
) -> tuple[gh.Step, ...]:
    """The job's steps: the shim step ``name`` runs ``command``; with the artifacts
    datastore, it reads the artifacts of ``downloads`` (``None``: every artifact)."""
    setup = [gh.Step(uses=gh.CHECKOUT, with_={"persist-credentials": False})]
    if job.image is None:
        version = {"python-version": settings.python_version}
        setup.append(gh.Step(uses=gh.SETUP_PYTHON, with_=version))
    setup.append(pip_cache(settings))
    setup.append(gh.Step(name="Install", run=settings.install))
    shim = gh.Step(
        name=name,
        id=SHIM,
        # Every attempt the shim makes on this runner (the shim stops each one itself).
        timeout_minutes=minutes(job.timeout),
        env=shim_env(settings, graph, job),
        run=command,
    )
    if graph.datastore is not None:
        return (*setup, shim)
    return (*setup, *around_shim(laminar, job, gh.artifacts(downloads), shim))


def pip_cache(settings: GitHubOptions) -> gh.Step:
    """Reuse pip's downloads across runs: keyed on the install command, the Python
    version and the lock files, so a change to any of them starts a new cache."""
    fingerprint = hashlib.sha256(
        f"{settings.install}\0{settings.python_version}".encode()
    ).hexdigest()[:12]
    key, prefix = gh.pip_cache_key(fingerprint)
    return gh.Step(
        name="Cache pip's downloads",
        uses=gh.CACHE,
        with_={"path": "~/.cache/pip", "key": key, "restore-keys": prefix},
    )


def shim_env(settings: GitHubOptions, graph: JobGraph, job: Job) -> dict[str, str]:
    """The shim step's environment: the layer's own (escaped as data when written), the
    secrets, and what laminar hands over at run time."""
    env: dict[str, str] = dict(job.env)
    for name in job.secrets:  # this layer's own, in this job only
        env[name] = gh.secret(name)
    for name in settings.secret:
        if name in env:
            raise CompileError(
                f"--secret {name}: layer {job.layer} already sets {name} in "
                "Container(env=...) or Container(secrets=...); pass it once."
            )
        env[name] = gh.secret(name)
    if settings.signing_key:
        env[ENV_SIGNING_KEY] = gh.secret(ENV_SIGNING_KEY)
    if graph.datastore is None:
        env[ENV_DATASTORE] = LOCAL_DATASTORE
    if job.kind is JobKind.MAPPED:
        env[ENV_LEG] = gh.matrix_leg()
    if job.kind is not JobKind.EXIT:  # "Re-run jobs" starts a job again: its try number
        env[ENV_ATTEMPT] = gh.run_attempt()
    if job.kind is JobKind.EXIT:
        env[ENV_RUN_STATUS] = gh.run_status()
    return env


def minutes(timeout: float | None) -> int | None:
    """A limit in GitHub's whole minutes, rounded up (never shorter than the flow says)."""
    return None if timeout is None else math.ceil(timeout / 60)
