"""Checks of what a layer's container runs: ``Container(image=, cpu=, memory=, workdir=,
command=, env=)``; the placement fields have ``placement.py``.

Each value is refused with a message that shows the accepted spelling, and ``env`` is
normalised in place (sorted), so that every target receives values it can carry.
"""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Mapping
from typing import Any

from laminar.errors import ConfigurationError
from laminar.text import invalid_utf8

_CPU = re.compile(r"(\d+(\.\d+)?|\d+m)")
_MEMORY = re.compile(r"\d+(\.\d+)?([EPTGMK]i?|[eE]\d+|m|k)?")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: An image reference: printable ASCII without spaces, not starting with ``-`` (an option).
_IMAGE = re.compile(r"[!-~]+")


def check_container(container: Any) -> None:
    """Validate ``container`` (a frozen Container) and sort its ``env`` in place."""
    if container.image is not None and (
        not isinstance(container.image, str)
        or not _IMAGE.fullmatch(container.image)
        or container.image.startswith("-")
    ):
        raise ConfigurationError(
            f"Container(image={container.image!r}) must be an image reference such as "
            "'python:3.11-slim': printable ASCII, no spaces or control characters, not "
            "starting with '-'."
        )
    if container.cpu is not None and (
        isinstance(container.cpu, bool)
        or (isinstance(container.cpu, float) and not math.isfinite(container.cpu))
        or not _CPU.fullmatch(str(container.cpu))
        or float(str(container.cpu).rstrip("m") or 0) <= 0
    ):
        raise ConfigurationError(
            f"Container(cpu={container.cpu!r}) must be a positive number of cores "
            "(2, 0.5) or millicores ('500m')."
        )
    megabytes = isinstance(container.memory, int) and not isinstance(container.memory, bool)
    if container.memory is not None and not (
        (megabytes and int(container.memory) > 0)
        or (isinstance(container.memory, str) and _MEMORY.fullmatch(container.memory))
    ):
        raise ConfigurationError(
            f"Container(memory={container.memory!r}) must be megabytes (2000) or a Kubernetes "
            "quantity such as '512Mi' or '4Gi'."
        )
    if container.workdir is not None and (
        not isinstance(container.workdir, str)
        or not container.workdir.startswith("/")
        or not container.workdir.isprintable()
    ):
        raise ConfigurationError(
            f"Container(workdir={container.workdir!r}) must be an absolute path in the image, "
            "such as '/app'."
        )
    if container.command is not None:
        try:
            words = shlex.split(container.command) if isinstance(container.command, str) else []
        except ValueError:
            words = []
        if not words or not container.command.isprintable():
            raise ConfigurationError(
                f"Container(command={container.command!r}) must be the command that runs "
                "laminar in the image, such as 'python -m laminar'."
            )
    _check_env(container)


def _check_env(container: Any) -> None:
    """``env`` is names to strings an environment can carry; stored sorted."""
    if not isinstance(container.env, Mapping):
        raise ConfigurationError("Container(env=...) must be a dict of name -> string.")
    env: dict[str, str] = {}
    for key, value in container.env.items():
        if not isinstance(key, str) or not _ENV_NAME.fullmatch(key):
            raise ConfigurationError(
                f"Container(env={{{key!r}: ...}}): variable names are letters, digits "
                "and underscores, not starting with a digit."
            )
        if not isinstance(value, str):
            raise ConfigurationError(
                f"Container(env={{{key!r}: {value!r}}}): values must be strings; "
                f"write {str(value)!r}."
            )
        if "\x00" in value or invalid_utf8(value):
            raise ConfigurationError(
                f"Container(env={{{key!r}: {value!r}}}): the value holds a NUL character "
                "or bytes that are not UTF-8, which no environment variable can carry."
            )
        env[key] = value
    object.__setattr__(container, "env", dict(sorted(env.items())))
