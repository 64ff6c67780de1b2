"""GitHub Actions' workflow syntax as typed objects, named after GitHub's own keys.

Only the keys laminar writes are declared. Field names are GitHub's in snake_case
(``runs_on`` is written ``runs-on``; ``if_`` and ``with_`` are ``if`` and ``with``); a reader
who knows the workflow syntax recognises every one. ``backends/document.py`` serialises them.

Every ``${{ }}`` expression of a workflow is built here, by the small functions at the end
(a job's ``if:`` in ``conditions.py``), from ids laminar made legal (``legal_id`` checks
each one again); everything else is a plain ``str`` that ``github_text`` escapes when it is
written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from laminar.backends.document import Expression, Spec

#: The actions a generated job uses, by major version. Each runs on Node 24: GitHub removed
#: Node 20 from its runners in September 2026, and actionlint flags the majors that used it.
CHECKOUT = "actions/checkout@v6"
SETUP_PYTHON = "actions/setup-python@v6"
CACHE = "actions/cache@v5"
UPLOAD_ARTIFACT = "actions/upload-artifact@v7"
DOWNLOAD_ARTIFACT = "actions/download-artifact@v7"


@dataclass(frozen=True)
class GitHubSpec(Spec):
    key_style: ClassVar[str] = "kebab"


@dataclass(frozen=True)
class Step(GitHubSpec):
    name: str | None = None
    id: str | None = None
    if_: Expression | None = None
    timeout_minutes: int | None = None
    uses: str | None = None
    with_: dict[str, Any] | None = None
    env: dict[str, str] | None = None
    run: str | None = None


@dataclass(frozen=True)
class Container(GitHubSpec):
    image: str
    #: Extra ``docker create`` options (``--workdir /app``).
    options: str | None = None


@dataclass(frozen=True, kw_only=True)
class Strategy(GitHubSpec):
    #: Let the other legs finish and commit: a re-run then only redoes what failed.
    fail_fast: bool = False
    max_parallel: int | None = None
    matrix: Expression


@dataclass(frozen=True, kw_only=True)
class Job(GitHubSpec):
    name: str
    needs: tuple[str, ...] = ()
    if_: Expression | None = None
    #: A runner label, or several (a runner must have them all).
    runs_on: str | tuple[str, ...]
    timeout_minutes: int | None = None
    container: Container | None = None
    outputs: dict[str, Expression] | None = None
    strategy: Strategy | None = None
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Permissions(GitHubSpec):
    contents: str = "read"
    #: ``read`` to download artifacts through the REST API (earlier attempts' included).
    actions: str | None = None


@dataclass(frozen=True)
class RunDefaults(GitHubSpec):
    shell: str


@dataclass(frozen=True)
class Defaults(GitHubSpec):
    run: RunDefaults


@dataclass(frozen=True)
class Concurrency(GitHubSpec):
    group: Expression
    #: False: a new run waits for the one running (GitHub keeps one waiting), never cancels it.
    cancel_in_progress: bool = False


@dataclass(frozen=True)
class Workflow(GitHubSpec):
    name: str
    #: Event name -> its settings (``None`` for none); ``schedule`` -> a list of
    #: ``{"cron": ..., "timezone": ...}``.
    on: dict[str, Any]
    permissions: Permissions
    defaults: Defaults
    env: dict[str, str]
    jobs: dict[str, Job]
    concurrency: Concurrency | None = None


# -- expressions ----------------------------------------------------------------------------
_ID = re.compile(r"[_A-Za-z][A-Za-z0-9_-]*")


def legal_id(text: str) -> str:
    """An id laminar made legal (job, step, output, secret); anything else is a bug."""
    if _ID.fullmatch(text) is None:
        raise AssertionError(f"not a legal GitHub id: {text!r}")  # pragma: no cover
    return text


def expression(body: str) -> Expression:
    """``${{ body }}``: ``body`` is built by the functions below from legal ids only."""
    return Expression(f"${{{{ {body} }}}}")


def run_id() -> Expression:
    return expression("github.run_id")


#: Files whose content decides what the install step installs.
LOCK_FILES = (
    "**/requirements*.txt", "**/pyproject.toml", "**/setup.py", "**/setup.cfg",
    "**/poetry.lock", "**/uv.lock", "**/Pipfile.lock",
)  # fmt: skip


def pip_cache_key(fingerprint: str) -> tuple[Expression, Expression]:
    """The pip cache's key and restore prefix: the runner's OS, a fingerprint of the install
    command and Python version (hex), and the hash of the lock files."""
    if re.fullmatch(r"[0-9a-f]+", fingerprint) is None:
        raise AssertionError(f"not a fingerprint: {fingerprint!r}")  # pragma: no cover
    prefix = f"laminar-pip-${{{{ runner.os }}}}-{fingerprint}-"
    files = ", ".join(f"'{pattern}'" for pattern in LOCK_FILES)
    return Expression(f"{prefix}${{{{ hashFiles({files}) }}}}"), Expression(prefix)


def all_inputs() -> Expression:
    """Every ``workflow_dispatch`` input as one JSON object (empty for other events)."""
    return expression("toJSON(inputs)")


def dispatch_input(name: str) -> Expression:
    """One ``workflow_dispatch`` input (empty for other events: a schedule's runs)."""
    return expression(f"inputs.{legal_id(name)}")


def workflow_group() -> Expression:
    """One concurrency group per workflow (and branch): its runs queue one after another."""
    return expression("github.workflow")


def run_attempt() -> Expression:
    return expression("github.run_attempt")


def token() -> Expression:
    return expression("github.token")


def runner_temp() -> Expression:
    return expression("runner.temp")


def matrix_leg() -> Expression:
    return expression("matrix.leg")


def secret(name: str) -> Expression:
    return expression(f"secrets.{legal_id(name)}")


def step_output(step: str, output: str) -> Expression:
    return expression(f"steps.{legal_id(step)}.outputs.{legal_id(output)}")


def in_temp(name: str) -> Expression:
    """A path under the runner's temporary directory."""
    return Expression(f"{runner_temp()}/{legal_id(name)}")


def artifact(job: str, leg: bool) -> Expression:
    """``laminar.<job>[.<leg>].<attempt>``: unique per job, leg and attempt (v4 artifacts are
    immutable); job ids hold no ``.``, so ``laminar.<job>.*`` matches that job's only."""
    parts = ["laminar", legal_id(job), *([matrix_leg()] if leg else []), run_attempt()]
    return Expression(".".join(parts))


def artifacts(ids: list[tuple[str, bool]] | None) -> Expression:
    """A download ``pattern`` for every attempt's artifacts of ``ids`` (job id, own leg only);
    ``None``: every laminar artifact of the run."""
    if ids is None:
        return Expression("laminar.*")
    names = [legal_id(job) + (f".{matrix_leg()}" if leg else "") for job, leg in ids]
    body = names[0] if len(names) == 1 else "{" + ",".join(names) + "}"
    return Expression(f"laminar.{body}.*")


def run_status() -> Expression:
    """How the run ended, from every job's result (the exit job needs them all)."""
    return expression(
        "contains(needs.*.result, 'failure') && 'Failed' || "
        "(contains(needs.*.result, 'cancelled') && 'Cancelled' || 'Succeeded')"
    )


def step_succeeded(step: str) -> Expression:
    """For the steps after the shim: run even when it failed, once the snapshot exists."""
    return expression(f"always() && steps.{legal_id(step)}.outcome == 'success'")
