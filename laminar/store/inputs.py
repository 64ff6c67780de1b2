"""An execution's inputs: committed once, as sealed JSON, before its first task runs.

Inputs are JSON values (see ``laminar.model.parameters``), so they are stored as JSON, not
pickled: ``laminar show`` and people can read them, and reading them runs no code. Like every
commit they are checked on every read: ``inputs.json`` is ``{"inputs": {...}, "seal": [crc,
hmac]}``, the tag of the inputs' canonical JSON, its signature bound to the flow and the
execution. A changed digit is refused, not read on resume.

The first start of an execution commits its inputs exclusively: when two starts race with
different inputs, the first written stands and the other stops with an error naming both.
"""

from __future__ import annotations

import json
from typing import Any

from laminar.errors import ExecutionError
from laminar.store.files import AlreadyCommitted
from laminar.store.integrity import CorruptObjectError
from laminar.store.objects import Objects

#: The name of the inputs in their place (flow, execution, "", "", INPUTS), for signatures.
INPUTS = "inputs.json"


class InputsConflictError(ExecutionError):
    """Another start of the same execution committed different inputs first."""


def _canonical(inputs: dict[str, Any]) -> bytes:
    return json.dumps(inputs, sort_keys=True, ensure_ascii=False, allow_nan=False).encode()


def read_inputs(objects: Objects) -> dict[str, Any] | None:
    """The committed inputs, checked, or ``None`` when none were committed yet."""
    path = objects.layout.inputs()
    data = objects.store.read_or_none(path)
    if data is None:
        return None
    what = f"The inputs file of execution {objects.id} ({path})"
    fix = (
        "Start a new execution (another --execution) with the inputs you mean; this one's "
        "results cannot be trusted to come from the inputs shown."
    )
    try:
        raw = json.loads(data)
        inputs, (crc, mac) = raw["inputs"], raw["seal"]
        if not isinstance(inputs, dict) or set(raw) != {"inputs", "seal"}:
            raise TypeError("not an object of inputs")
        tag = (int(crc), bytes.fromhex(mac))
        body = _canonical(inputs)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise CorruptObjectError(
            f"{what} is damaged or unsealed ({len(data)} bytes; {type(error).__name__}). {fix}"
        ) from None
    objects.seal.check(body, tag, what, fix, objects.place("", "", INPUTS))
    return inputs


def commit_inputs(objects: Objects, inputs: dict[str, Any]) -> None:
    """Commit ``inputs`` unless inputs are committed already (the first writer wins): the
    same inputs are fine, other ones an ``InputsConflictError``."""
    body = _canonical(inputs)
    crc, mac = objects.seal.tag(body, objects.place("", "", INPUTS))
    sealed = {"inputs": inputs, "seal": [crc, mac.hex()]}
    text = json.dumps(sealed, sort_keys=True, ensure_ascii=False, allow_nan=False)
    try:
        objects.store.write_atomic(objects.layout.inputs(), text.encode(), exclusive=True)
    except AlreadyCommitted:
        committed = read_inputs(objects)
        if committed != inputs:
            raise InputsConflictError(conflict(objects.id, committed or {}, inputs)) from None


def conflict(execution: str, committed: dict[str, Any], given: dict[str, Any]) -> str:
    """Why ``given`` cannot be the inputs of ``execution``, which committed ``committed``."""
    changed = sorted(k for k in {*committed, *given} if committed.get(k) != given.get(k))
    name = changed[0]
    return (
        f"Execution {execution} started with input {name}={json.dumps(committed.get(name))}, "
        f"not {json.dumps(given.get(name))}: an execution keeps the inputs it was first "
        f"started with. Resume without -p, or start a new execution (another --execution) "
        f"for new inputs."
    )
