"""``laminar compile --target github`` options, validated against GitHub Actions' rules."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from laminar.backends.options import option, require_choice, require_positive, valid_cron
from laminar.contract import RESERVED_ENV
from laminar.errors import CompileError

#: GitHub's limit on the jobs of one matrix.
MATRIX_LIMIT = 256
TRIGGERS = ("workflow_dispatch", "push")
DEFAULT_INSTALL = "python -m pip install ."
DEFAULT_PYTHON = "3.12"
DEFAULT_RUNS_ON = "ubuntu-latest"
SECRET_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_CRON_FIELD = r"[0-9A-Za-z*/,-]+"


@dataclass(frozen=True)
class GitHubOptions:
    on: tuple[str, ...] = option(
        "--on",
        "event that starts the workflow (repeatable; default: workflow_dispatch)",
        default=("workflow_dispatch",),
        choices=TRIGGERS,
        repeat=True,
    )
    schedule: tuple[str, ...] = option(
        "--schedule",
        "also start on this cron schedule, in the flow's Schedule timezone, else UTC (repeatable)",
        metavar="CRON",
        repeat=True,
    )
    runs_on: str = option(
        "--runs-on",
        f"runner label for every job (default: {DEFAULT_RUNS_ON})",
        default=DEFAULT_RUNS_ON,
        metavar="LABEL",
    )
    python_version: str = option(
        "--python-version",
        f"Python that actions/setup-python installs (default: {DEFAULT_PYTHON})",
        default=DEFAULT_PYTHON,
        metavar="X.Y",
    )
    install: str = option(
        "--install",
        "shell command that installs laminar and the flow's dependencies in each job "
        f"(default: {DEFAULT_INSTALL!r}, the repository's own package)",
        default=DEFAULT_INSTALL,
        metavar="COMMAND",
    )
    max_parallel: int | None = option(
        "--max-parallel",
        "at most N legs of one ForEach layer run at once (default: GitHub's choice)",
        kind=int,
        metavar="N",
    )
    max_legs: int = option(
        "--max-legs",
        f"batch a ForEach layer's tasks into at most N matrix jobs (1..{MATRIX_LIMIT}, "
        f"default {MATRIX_LIMIT})",
        default=MATRIX_LIMIT,
        kind=int,
        metavar="N",
    )
    secret: tuple[str, ...] = option(
        "--secret",
        "pass repository secret NAME to the tasks as environment variable NAME: the remote "
        "datastore's credentials, so only with --datastore URL (repeatable)",
        metavar="NAME",
        repeat=True,
    )
    name: str | None = option(
        "--name", "the workflow's name in the Actions tab (default: the flow's class name)"
    )
    signing_key: bool = option(
        "--signing-key",
        "sign and check the datastore's objects with the repository secret LAMINAR_SIGNING_KEY",
        default=False,
        switch=True,
    )

    def __post_init__(self) -> None:
        # Repeated options keep their first occurrence; lists from Python become tuples.
        for field in ("on", "schedule", "secret"):
            object.__setattr__(self, field, _unique(getattr(self, field), f"--{field}"))
        for trigger in self.on:
            require_choice(trigger, "--on", TRIGGERS)
        # Checked field by field, presets spelled out (GitHub takes five fields).
        crons = tuple(valid_cron(cron, "--schedule") for cron in self.schedule)
        object.__setattr__(self, "schedule", crons)
        require_positive(self.max_parallel, "--max-parallel")
        if (
            isinstance(self.max_legs, bool)
            or not isinstance(self.max_legs, int)
            or not 1 <= self.max_legs <= MATRIX_LIMIT
        ):
            raise CompileError(
                f"--max-legs {self.max_legs!r}: GitHub runs at most {MATRIX_LIMIT} jobs per "
                f"matrix; choose 1..{MATRIX_LIMIT}."
            )
        for name in self.secret:
            if re.fullmatch(SECRET_NAME, name) is None or name.upper().startswith("GITHUB_"):
                raise CompileError(
                    f"--secret {name!r}: a secret name has letters, digits and _, does not "
                    "start with a digit or GITHUB_, such as AWS_SECRET_ACCESS_KEY."
                )
            if name in RESERVED_ENV:
                raise CompileError(f"--secret {name}: that variable is set by laminar itself.")
        if self.name is not None:
            workflow_name(self.name, "--name")
        for flag, value in (
            ("--runs-on", self.runs_on),
            ("--python-version", self.python_version),
            ("--install", self.install),
        ):
            if not isinstance(value, str) or not value.strip():
                raise CompileError(f"{flag} must not be empty.")


def workflow_name(name: str, source: str) -> str:
    """``name`` as the workflow's ``name:``, or a ``CompileError``.

    GitHub never evaluates ``name:`` but refuses to start a workflow whose name holds
    ``${{``, and has no escape for it there, so such a name is refused, not escaped.
    """
    if not isinstance(name, str) or "${{" in name or not name.isprintable() or not name.strip():
        fix = " (pass --name NAME)" if source != "--name" else ""
        raise CompileError(
            f"{source} {name!r}: a workflow name is one non-empty line without '${{{{'{fix}."
        )
    return name


def _unique(values: Any, flag: str) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, (list, tuple)):
        raise CompileError(f"{flag} takes a list of values, not {values!r}.")
    return tuple(dict.fromkeys(values))
