"""The runtime shim's contract with the workflows that call it.

Generated workflows and the shim agree on three things, defined here once and imported by both
sides (``laminar.runtime.shim`` runs the commands; ``laminar.backends`` writes them):

* the commands and their options (``laminar plan``, ``laminar task``, ``laminar sync``);
* the environment variables through which an orchestrator hands over run-time values, so that
  no run-time value is ever pasted into a command line;
* the output formats of ``laminar plan``: the only thing an orchestrator reads back from a
  task is the number of legs of a ForEach layer, in the shape its fan-out syntax needs.

It also holds the checks both sides apply to the run-time values they hand over (datastore
URLs, execution ids), so that a local run, the shim and every compiler refuse the same values.

This module imports only ``laminar.errors`` and ``laminar.text``: it is the bottom of both
the runtime and the backends.
"""

from __future__ import annotations

import enum
import json
import os
import re
from urllib.parse import unquote

from laminar.errors import LaminarError
from laminar.text import describe_bytes, invalid_utf8, printable

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


#: Where credentials go instead of a URL, by where the flow runs.
CREDENTIALS_HELP = (
    "Credentials never go in a URL, which is copied into generated files, logs and messages. "
    "Locally, use the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) or an AWS "
    "profile (AWS_PROFILE); on Argo, name a Kubernetes secret with --s3-secret; on GitHub, "
    "pass repository secrets with --secret; on Airflow, use an Airflow connection or the "
    "workers' environment."
)

#: Longest execution id: Airflow's run_id column holds 250 characters, and an id is a
#: directory name in the datastore (at most 255 bytes on common file systems).
MAX_EXECUTION_ID = 250


#: Query parameters that carry secrets (presigned and SAS URLs: ``sig=``, ``X-Amz-Signature=``,
#: ``token=``, ...): their values are credentials, like a password.
_SECRET_QUERY = re.compile(r"(?i)sig|token|secret|passw|pwd|key|credential|auth|session")


def _userinfo(part: str) -> tuple[str, str, str] | None:
    """``(scheme, userinfo, rest)`` when ``part`` (one URL of an fsspec chain) holds
    ``user[:password]@`` before its host; else ``None``.

    A secret may hold any character (``/``, ``@``, ``?``, ``#``, ``:``, ``%``), so the
    authority is not cut at the first ``/`` as a URL parser would: the userinfo runs to the
    last ``@`` when the text before its first ``:`` is one path component (``user:...@``).
    A ``@`` in a path (``s3://bucket/v@1``) has a ``/`` before it and no ``:``: not userinfo.
    """
    scheme, separator, rest = part.partition("://")
    at = rest.rfind("@")
    if not separator or at < 0:
        return None
    candidate = rest[:at]
    user, colon, _ = candidate.partition(":")
    if colon and not any(c in user for c in "/?#"):
        return scheme, candidate, rest[at + 1 :]
    if not any(c in candidate for c in "/?#"):  # a user name alone (sftp://user@host)
        return scheme, candidate, rest[at + 1 :]
    return None


def _has_password(part: str) -> bool:
    found = _userinfo(part)
    if found is not None and ":" in unquote(found[1]):  # KEY%3ASECRET@ is KEY:SECRET@
        return True
    query = part.partition("?")[2]
    return any(_SECRET_QUERY.search(name) for name, _ in _query(query))


def _query(query: str) -> list[tuple[str, str]]:
    return [(n, v) for n, _, v in (p.partition("=") for p in re.split("[&;]", query) if p)]


def _shown(name: str, value: str) -> str:
    if not value:
        return name
    return f"{name}=***" if _SECRET_QUERY.search(name) else f"{name}={value}"


def redact_url(url: str) -> str:
    """``url`` fit to print: any ``user:password@`` (whatever the password holds) becomes
    ``***@``, and the values of secret-looking query parameters ``***``, in each part of a
    chained URL. The one function every message and generated file shows URLs through."""
    parts = []
    for part in url.split("::"):
        found = _userinfo(part)
        if found is not None:
            part = f"{found[0]}://***@{found[2]}"
        base, question, query = part.partition("?")
        if question:
            part = f"{base}?{'&'.join(_shown(name, value) for name, value in _query(query))}"
        parts.append(part)
    redacted = "::".join(parts)
    # A secret holding "::" would split a part in two: then hide everything up to the last @.
    whole = _userinfo(redacted)
    return f"{whole[0]}://***@{whole[2]}" if whole and "***" not in whole[1] else redacted


def check_datastore_url(url: str, option: str) -> str:
    """``url`` unchanged if it can be handed to every task; else a ``LaminarError``.

    Refused: a password in the URL in any form (``s3://KEY:SECRET@bucket/p`` where the secret
    may hold ``/``, ``+``, ``=``, ``@`` or percent-escapes; ``?sig=...`` query secrets; the
    message never shows it), bytes that are not UTF-8, and control characters (a URL travels
    in environment variables and generated files). ``option`` names where the URL came from.
    """
    redacted = redact_url(url)
    shown = describe_bytes(redacted)
    if invalid_utf8(url):
        raise LaminarError(
            f"{option} {shown} is not valid UTF-8; name the datastore with a UTF-8 path or URL."
        )
    # Each part of an fsspec chain (simplecache::s3://...), and the whole in case a secret
    # holds "::" itself.
    if any(_has_password(part) for part in (*url.split("::"), url)):
        raise LaminarError(f"{option} {shown} holds credentials. {CREDENTIALS_HELP}")
    if not url.strip() or printable(url) != url:
        raise LaminarError(
            f"{option} {shown} is not a usable datastore URL: it must not be empty or "
            "contain control characters. Use a path or a URL such as s3://bucket/prefix."
        )
    return url


def check_execution_id(execution: str, option: str) -> str:
    """``execution`` unchanged if it can name an execution; else a ``LaminarError``.

    Any text an orchestrator uses as a run id is accepted (the datastore path is sanitised),
    except what no file name or environment variable can hold.
    """
    if not execution:
        raise LaminarError(f"{option} is empty: an execution id is at least one character.")
    if invalid_utf8(execution):
        raise LaminarError(
            f"{option} {describe_bytes(execution)} is not valid UTF-8; use a UTF-8 id."
        )
    if "\x00" in execution:
        raise LaminarError(
            f"{option} {describe_bytes(execution)} contains a NUL character, which no "
            "environment variable or command line can carry; use another id."
        )
    if len(execution) > MAX_EXECUTION_ID:
        raise LaminarError(
            f"{option} is {len(execution)} characters long ({describe_bytes(execution[:20])}...); "
            f"an execution id has at most {MAX_EXECUTION_ID}."
        )
    return execution
