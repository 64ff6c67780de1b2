"""An execution's inputs: committed once, as JSON, before its first task runs.

Inputs are JSON values (see ``laminar.model.parameters``), so they are stored as JSON, not
pickled: ``laminar show`` and people can read them, and reading them runs no code.
"""

from __future__ import annotations

import json
from typing import Any

from laminar.errors import ExecutionError
from laminar.store.execution import Execution

INPUTS = "inputs.json"


def read_inputs(execution: Execution) -> dict[str, Any] | None:
    """The committed inputs, or ``None`` when none were committed yet."""
    data = execution.store.read_or_none(f"{execution.base}/{INPUTS}")
    if data is None:
        return None
    try:
        value = json.loads(data)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise ExecutionError(
            f"The inputs of execution {execution.id} ({execution.base}/{INPUTS}) are damaged; "
            "start a new execution."
        )
    return value


def commit_inputs(execution: Execution, inputs: dict[str, Any]) -> None:
    text = json.dumps(inputs, sort_keys=True, ensure_ascii=False, allow_nan=False)
    execution.store.write_atomic(f"{execution.base}/{INPUTS}", text.encode("utf-8"))
