"""A layer's secrets (``Container(secrets=[...])``): each is an environment variable that only
the declaring layer's tasks see, its value never written anywhere by laminar.

Deployed, the orchestrator puts each secret in the declaring layer's tasks only. Locally the
values come from the process environment, and every layer runs in the same process, so a task
runs with the other layers' secrets taken out of ``os.environ`` (and put back after).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from laminar.errors import ExecutionError
from laminar.ir import FlowIR, LayerSpec


def declared(ir: FlowIR) -> frozenset[str]:
    """Every secret a layer of ``ir`` declares."""
    found: set[str] = set()
    for spec in ir.specs():
        container = spec.settings.container
        if container is not None:
            found.update(container.secrets)
    return frozenset(found)


def own(spec: LayerSpec) -> tuple[str, ...]:
    container = spec.settings.container
    return tuple(container.secrets) if container is not None else ()


@contextlib.contextmanager
def only_own_secrets(spec: LayerSpec, every: frozenset[str]) -> Iterator[None]:
    """Run with ``spec``'s secrets in the environment (each must be set and not empty: a
    missing secret is named, with where it comes from on each target) and no other layer's."""
    mine = own(spec)
    missing = [name for name in mine if not os.environ.get(name)]
    if missing:
        name = missing[0]
        raise ExecutionError(
            f"Layer {spec.name} needs the secret {name} (Container(secrets=[{name!r}])), "
            f"which is not set here. Locally, set the environment variable {name}; deployed, "
            f"it is key {name} of the --env-secret Kubernetes Secret (Argo, Airflow's "
            f"Kubernetes operator), the Airflow Variable {name}, or the repository secret "
            f"{name} (GitHub Actions)."
        )
    hidden = {name: os.environ.pop(name) for name in every - set(mine) if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(hidden)
