"""Renderers from the IR to each orchestrator's own format.

``TARGETS`` maps a ``--target`` name to the module that defines its ``Backend`` subclass;
modules are imported only when their target is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from laminar.backends.base import Backend

TARGETS: dict[str, str] = {
    "argo": "laminar.backends.argo:ArgoBackend",
    "airflow": "laminar.backends.airflow:AirflowBackend",
    "github": "laminar.backends.github:GitHubBackend",
}


def backend_class(target: str) -> type[Backend]:
    module_name, _, class_name = TARGETS[target].partition(":")
    module = importlib.import_module(module_name)
    cls: type[Backend] = getattr(module, class_name)
    return cls
