"""The runtime shim's contract with the workflows that call it.

Generated workflows and the shim agree on three things, defined here once and imported by both
sides (``laminar.runtime.shim`` runs the commands; ``laminar.backends`` writes them):

* the commands and their options (``laminar plan``, ``laminar task``, ``laminar sync``);
* the environment variables through which an orchestrator hands over run-time values, so that
  no run-time value is ever pasted into a command line;
* the output formats of ``laminar plan``: the only thing an orchestrator reads back from a
  task is the number of legs of a ForEach layer, in the shape its fan-out syntax needs.

It also holds the checks both sides apply to the run-time values they hand over (datastore
URLs, execution ids: ``checks.py``), so that a local run, the shim and every compiler refuse
the same values.

This package imports only ``laminar.errors`` and ``laminar.text``: it is the bottom of both
the runtime and the backends.
"""

from __future__ import annotations

import enum
import json
import os

from laminar.contract.checks import check_datastore_url as check_datastore_url
from laminar.contract.checks import check_execution_id as check_execution_id
from laminar.contract.checks import redact_url as redact_url
from laminar.errors import LaminarError
from laminar.text import printable

#: The execution id: the orchestrator's own run id (Argo workflow name, Airflow run id,
#: GitHub run id), so re-running a failed run resumes it.
ENV_EXECUTION = "LAMINAR_EXECUTION"
#: The datastore URL (``s3://bucket/prefix``, ``file:///mnt/x``, a path).
ENV_DATASTORE = "LAMINAR_DATASTORE"
#: Which leg of a ForEach layer a mapped task runs (0-based).
ENV_LEG = "LAMINAR_LEG"
#: The execution's inputs as one JSON object (targets that can build one: Airflow, GitHub).
ENV_INPUTS = "LAMINAR_INPUTS"
#: One input per variable, its text base64-encoded (Argo: the only encoding that neither
#: Kubernetes' ``$(VAR)`` expansion nor Argo's repeated ``{{`` substitution can alter).
ENV_INPUT_PREFIX = "LAMINAR_INPUT_"
#: Opt-in integrity key: when set, every manifest and stored object is HMAC-SHA256 signed on
#: commit, and readers refuse unsigned or tampered objects before unpickling them. Backends
#: should pass it to every task as a secret (never in a command line or a rendered file).
ENV_SIGNING_KEY = "LAMINAR_SIGNING_KEY"
#: The most legs a plan may print, when the orchestrator knows it only when the task runs
#: (Airflow's ``[core] max_map_length``); ``--max-legs`` wins over it.
ENV_MAX_LEGS = "LAMINAR_MAX_LEGS"
#: The file a task's outputs go to, when the orchestrator picks it as the task runs (Airflow's
#: python operator: a temporary file whose content becomes the XCom). Commands name it as
#: ``$LAMINAR_OUTPUT`` (see ``output_file``).
ENV_OUTPUT = "LAMINAR_OUTPUT"
#: The run's outcome as the orchestrator sees it (``Succeeded``, ``Failed``, ...), handed to
#: the exit job that runs a flow's ``@hooks.exit`` hooks.
ENV_RUN_STATUS = "LAMINAR_RUN_STATUS"
#: Which try of this task the orchestrator is running, 1 for the first (``self.attempt``
#: and ``current.attempt``): for targets that retry a task by starting it again (Airflow's
#: task-instance ``try_number``; Argo's ``{{retries}}`` + 1; GitHub's ``run_attempt``). When
#: the shim makes a layer's ``Retry`` attempts itself (``laminar task --retry``), its own
#: attempts count on from there. Unset: 1.
ENV_ATTEMPT = "LAMINAR_ATTEMPT"
#: The run's logical date (an ISO date or timestamp) as the orchestrator sees it (Airflow's
#: ``ds``, Argo's scheduled or creation time): the value of ``LogicalDate()`` inputs.
ENV_LOGICAL_DATE = "LAMINAR_LOGICAL_DATE"
#: Run every task of cached layers instead of serving them from earlier executions
#: (``laminar run --no-cache``; each target's per-run switch sets it): ``1`` or ``true``.
ENV_NO_CACHE = "LAMINAR_NO_CACHE"
#: The per-run switch that ignores the cache, on a flow with a cached layer: an Airflow Param,
#: an Argo workflow parameter, a GitHub ``workflow_dispatch`` input; each target turns it into
#: ``LAMINAR_NO_CACHE`` for every task. It is no flow input: no input may take its name, and
#: the shim drops it from ``LAMINAR_INPUTS`` (Airflow's ``params``, GitHub's ``toJSON(inputs)``).
NO_CACHE_SWITCH = "laminar_no_cache"
#: Variables laminar sets itself; a layer's ``Container(env=...)`` may not set them (the
#: signing key is a secret: it never goes into a generated file).
RESERVED_ENV = (
    ENV_EXECUTION, ENV_DATASTORE, ENV_LEG, ENV_INPUTS, ENV_SIGNING_KEY, ENV_MAX_LEGS, ENV_OUTPUT,
    ENV_RUN_STATUS, ENV_ATTEMPT, ENV_LOGICAL_DATE, ENV_NO_CACHE,
)  # fmt: skip

#: The shim's commands (``exit``: run a flow's exit hooks, once per run).
PLAN, TASK, SYNC, EXIT = "plan", "task", "sync", "exit"
#: ``laminar sync``'s actions: record a local datastore's files, then copy out the ones a job
#: added or changed since (for orchestrators that carry data as artifacts: GitHub Actions).
SYNC_SNAPSHOT, SYNC_CHANGED = "snapshot", "changed"


class PlanFormat(str, enum.Enum):
    """How ``laminar plan`` prints a ForEach layer's legs, one shape per kind of fan-out."""

    #: The number of legs (``6``): Argo's ``withSequence.count``.
    COUNT = "count"
    #: A JSON list of leg numbers (``[0,1,2]``): Airflow's ``expand`` over an XCom list.
    LIST = "list"
    #: ``legs=N``, ``count=N`` and ``matrix={"leg":[...]}`` lines for ``$GITHUB_OUTPUT``.
    GITHUB = "github"
    #: The whole plan as one JSON object, for people and scripts.
    JSON = "json"
    #: A JSON list, one object per leg: its number and what its pod asks for on each attempt
    #: as the layer's hooks decide (``[{"leg": 0, "resources": [{"memory": "2000M"}]}]``):
    #: Airflow's ``expand_kwargs`` over the plan's one XCom (``laminar.runtime.sizing``).
    SIZED = "sized"

    @property
    def appends(self) -> bool:
        """Whether ``--output FILE`` appends (``$GITHUB_OUTPUT`` collects every step's lines)."""
        return self is PlanFormat.GITHUB


def attempt_number(text: str | None) -> int:
    """The try number in ``$LAMINAR_ATTEMPT`` (1 when unset or empty): a whole number >= 1,
    else an error naming the variable."""
    if text is None or text == "":
        return 1
    if not (text.isascii() and text.isdigit()) or len(text) > 9 or int(text) < 1:
        raise LaminarError(
            f"{ENV_ATTEMPT}={printable(text)} is not a try number: it must be a whole number "
            "of at least 1 (the orchestrator's try number; unset means 1)."
        )
    return int(text)


def render_plan(count: int, legs: int, fmt: PlanFormat, key: str | None = None) -> str:
    """The text ``laminar plan --format fmt`` prints for ``count`` tasks in ``legs`` legs.

    ``key`` names a plan's lines in ``$GITHUB_OUTPUT`` (``legs-KEY=``...), where one job
    writes the plans of several fan-outs (``laminar task --plan-key``)."""
    if fmt is PlanFormat.COUNT:
        return f"{legs}\n"
    if fmt is PlanFormat.LIST:
        return json.dumps(list(range(legs))) + "\n"
    if fmt is PlanFormat.GITHUB:
        matrix = json.dumps({"leg": list(range(legs))}, separators=(",", ":"))
        end = "" if key is None else f"-{key}"
        return f"legs{end}={legs}\ncount{end}={count}\nmatrix{end}={matrix}\n"
    return json.dumps({"count": count, "legs": legs}) + "\n"


def render_output(name: str, value: str, fmt: PlanFormat) -> str:
    """One output of ``laminar task`` (``--finished-output``): ``name=value`` for GitHub's
    ``$GITHUB_OUTPUT``, else the value alone (an Argo output parameter's file)."""
    return f"{name}={value}\n" if fmt is PlanFormat.GITHUB else f"{value}\n"


#: The exit status ``laminar task --skipped-status`` gives when the layer was skipped:
#: Airflow's ``skip_on_exit_code`` default (BashOperator), which marks the task skipped.
SKIPPED_STATUS = 99


def file_named_by(variable: str) -> str:
    """An output path that names the file environment variable ``variable`` holds when the
    task runs: ``$GITHUB_OUTPUT``. Generated commands carry this reference as a literal word
    (quoted: no shell expands it); the shim resolves it (``output_file``)."""
    return f"${variable}"


def output_file(path: str, option: str) -> str:
    """The file an output option (``--output``, ``--plan-output``, ``--finished-output``)
    names: ``path``, or for ``$NAME`` the file the environment variable NAME names now."""
    if not path.startswith("$"):
        return path
    variable = path[1:]
    value = os.environ.get(variable, "")
    if not variable.isidentifier() or not value:
        raise LaminarError(
            f"{option} {printable(path)} names the file in ${printable(variable)}, which is not "
            "set here; run the command where the orchestrator sets it, or give a path."
        )
    return value


def shim_argv(
    laminar: tuple[str, ...], command: str, flow_ref: str, layer: str, *options: str
) -> tuple[str, ...]:
    """A shim command line. ``--layer=NAME`` is one word, so a layer named like an option
    (``--help``) is still read as the layer's name."""
    return (*laminar, command, flow_ref, f"--layer={layer}", *options)


def sync_argv(laminar: tuple[str, ...], action: str, *options: str) -> tuple[str, ...]:
    """A ``laminar sync`` command line: it takes no flow, only files and directories."""
    return (*laminar, SYNC, action, *options)
