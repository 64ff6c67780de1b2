"""The runtime shim's contract with the workflows that call it.

Generated workflows and the shim agree on three things, defined here once and imported by both
sides (``laminar.runtime.shim`` runs the commands; ``laminar.backends`` writes them):

* the commands and their options (``laminar plan``, ``laminar task``, ``laminar sync``);
* the environment variables through which an orchestrator hands over run-time values, so that
  no run-time value is ever pasted into a command line;
* the output formats of ``laminar plan``: the only thing an orchestrator reads back from a
  task is the number of legs of a ForEach layer, in the shape its fan-out syntax needs.

This module imports nothing from laminar: it is the bottom of both the runtime and the backends.
"""

from __future__ import annotations

import enum
import json

#: The execution id: the orchestrator's own run id (Argo workflow name, Airflow run id,
#: GitHub run id), so re-running a failed run resumes it.
ENV_EXECUTION = "LAMINAR_EXECUTION"
#: The datastore URL (``s3://bucket/prefix``, ``file:///mnt/x``, a path).
ENV_DATASTORE = "LAMINAR_DATASTORE"
#: Which leg of a ForEach layer a mapped task runs (0-based).
ENV_LEG = "LAMINAR_LEG"
#: Opt-in integrity key: when set, every manifest and stored object is HMAC-SHA256 signed on
#: commit, and readers refuse unsigned or tampered objects before unpickling them. Backends
#: should pass it to every task as a secret (never in a command line or a rendered file).
ENV_SIGNING_KEY = "LAMINAR_SIGNING_KEY"
#: Variables laminar sets itself; a layer's ``Container(env=...)`` may not set them.
RESERVED_ENV = (ENV_EXECUTION, ENV_DATASTORE, ENV_LEG)

#: The shim's commands.
PLAN, TASK, SYNC = "plan", "task", "sync"


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

    @property
    def appends(self) -> bool:
        """Whether ``--output FILE`` appends (``$GITHUB_OUTPUT`` collects every step's lines)."""
        return self is PlanFormat.GITHUB


def render_plan(count: int, legs: int, fmt: PlanFormat) -> str:
    """The text ``laminar plan --format fmt`` prints for ``count`` tasks in ``legs`` legs."""
    if fmt is PlanFormat.COUNT:
        return f"{legs}\n"
    if fmt is PlanFormat.LIST:
        return json.dumps(list(range(legs))) + "\n"
    if fmt is PlanFormat.GITHUB:
        matrix = json.dumps({"leg": list(range(legs))}, separators=(",", ":"))
        return f"legs={legs}\ncount={count}\nmatrix={matrix}\n"
    return json.dumps({"count": count, "legs": legs}) + "\n"


def shim_argv(
    laminar: tuple[str, ...], command: str, flow_ref: str, layer: str, *options: str
) -> tuple[str, ...]:
    """A shim command line. ``--layer=NAME`` is one word, so a layer named like an option
    (``--help``) is still read as the layer's name."""
    return (*laminar, command, flow_ref, f"--layer={layer}", *options)
