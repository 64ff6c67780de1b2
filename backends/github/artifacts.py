"""Carrying the datastore between GitHub jobs as workflow artifacts (no remote ``--datastore``).

Each job downloads its ancestors' artifacts (and its own from earlier attempts) into a local
datastore, snapshots it (``laminar sync snapshot``), runs the shim, and uploads the files that
are new or changed (``laminar sync changed``) under a name unique to the job, leg and attempt;
a leg never downloads its siblings', which keeps a wide fan-out linear. Downloads go through
the REST API (``github-token`` + ``run-id``, hence ``actions: read``) because only that path
sees earlier attempts' artifacts.
"""

from __future__ import annotations

from laminar.backends.document import Expression
from laminar.backends.escaping import shell_command
from laminar.backends.github import spec as gh
from laminar.backends.jobs import Job, JobGraph, JobKind
from laminar.contract import ENV_DATASTORE, SYNC_CHANGED, SYNC_SNAPSHOT, sync_argv

#: Where a job keeps its copy of the datastore when artifacts carry the data.
LOCAL_DATASTORE = gh.in_temp("laminar-datastore")
UPLOAD = "laminar-upload"
#: At most this many job ids in one download pattern (see ``download_ids``).
PATTERN_IDS = 32
#: The snapshot step's id (the steps after the shim run when it succeeded).
BEFORE = "before"

Inputs = list[tuple[str, bool]]


def around_shim(
    laminar: tuple[str, ...], job: Job, pattern: Expression, shim: gh.Step
) -> tuple[gh.Step, ...]:
    """The ``shim`` step between the artifact steps: download the artifacts ``pattern``
    names, list the datastore's files, run the shim, collect the files it wrote and upload
    them as this job's (and leg's) artifact."""
    local: dict[str, str] = {ENV_DATASTORE: LOCAL_DATASTORE}
    snapshot = '"$RUNNER_TEMP/laminar-snapshot.json"'
    after = gh.step_succeeded(BEFORE)
    mapped = job.kind is JobKind.MAPPED
    return (
        gh.Step(
            name="Download the run's results so far",
            uses=gh.DOWNLOAD_ARTIFACT,
            with_={
                "pattern": pattern,
                "path": LOCAL_DATASTORE,
                "merge-multiple": True,
                "github-token": gh.token(),
                "run-id": gh.run_id(),
            },
        ),
        gh.Step(
            name="List the datastore's files",
            id=BEFORE,
            env=local,
            run=f"{shell_command(sync_argv(laminar, SYNC_SNAPSHOT, '--to'))} {snapshot}",
        ),
        shim,
        gh.Step(
            name="Collect the files this job wrote",
            if_=after,
            env=local,
            run=f"{shell_command(sync_argv(laminar, SYNC_CHANGED, '--since'))} {snapshot} "
            f'--into "$RUNNER_TEMP/{UPLOAD}"',
        ),
        gh.Step(
            name="Upload them",
            if_=after,
            uses=gh.UPLOAD_ARTIFACT,
            with_={
                "name": gh.artifact(job.id, leg=mapped),
                "path": gh.in_temp(UPLOAD),
                "if-no-files-found": "ignore",
                "include-hidden-files": True,
            },
        ),
    )


def download_ids(graph: JobGraph) -> dict[str, Inputs | None]:
    """Per job, the (job id, own leg only) pairs whose artifacts it downloads, in the graph's
    order; ``None`` past ``PATTERN_IDS`` ids: the job then downloads every artifact.

    Capping the ancestors keeps compiling a long chain linear (and its workflow under GitHub's
    500 KB): no job carries more than a few dozen, and a job below a capped one is capped too.
    """
    position = {job.id: index for index, job in enumerate(graph.jobs)}
    above: dict[str, set[str] | None] = {}
    found: dict[str, Inputs | None] = {}
    for job in graph.jobs:
        parents = [above[need] for need in job.after]
        union: set[str] | None = None
        if all(parent is not None for parent in parents):
            union = set(job.after).union(*(p for p in parents if p is not None))
            union = union if len(union) < PATTERN_IDS else None
        above[job.id] = union
        if union is None:
            found[job.id] = None
            continue
        ancestors = [(need, False) for need in sorted(union, key=position.__getitem__)]
        found[job.id] = [*ancestors, (job.id, job.kind is JobKind.MAPPED)]
    return found
