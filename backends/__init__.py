"""From the IR to each orchestrator's own file: one lowering, one dialect per target.

``lowering.py`` builds the graph of jobs every target runs; ``dialect.py`` is what a target
declares; ``argo/``, ``airflow/`` and ``github/`` each hold one target's differences.
``TARGETS`` maps a ``--target`` name to its dialect, imported only when that target is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from laminar.backends.dialect import Dialect
    from laminar.ir import FlowIR

TARGETS: dict[str, str] = {
    "argo": "laminar.backends.argo:ArgoDialect",
    "airflow": "laminar.backends.airflow:AirflowDialect",
    "github": "laminar.backends.github:GitHubDialect",
}


def dialect_class(target: str) -> type[Dialect]:
    module_name, _, class_name = TARGETS[target].partition(":")
    module = importlib.import_module(module_name)
    cls: type[Dialect] = getattr(module, class_name)
    return cls


def generate(
    target: str,
    ir: FlowIR,
    *,
    flow_ref: str,
    datastore: str | None = None,
    image: str | None = None,
    command: str = "",
    **target_options: Any,
) -> str:
    """Compile ``ir`` for ``target`` from Python: ``target_options`` are the fields of the
    target's options dataclass (``kind="cron-workflow"``, ``max_legs=4``, ...)."""
    from laminar.backends.lowering import CompileOptions

    cls = dialect_class(target)
    options = CompileOptions(
        flow_ref=flow_ref,
        datastore=datastore,
        image=image,
        command=command,
        target_options=cls.options_class(**target_options),
    )
    return cls(options).generate(ir)
