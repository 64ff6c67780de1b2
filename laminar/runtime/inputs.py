"""Starting an execution with inputs, and the ``Parameters`` view layers read them through.

The first thing an execution does is commit its inputs; every task after that reads them from
the datastore. A resumed execution reuses them; one given different inputs is refused, so the
results of one execution always come from one set of inputs.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from typing import Any

from laminar.configurations.schedule import logical_date
from laminar.contract import ENV_INPUT_PREFIX, ENV_INPUTS, ENV_LOGICAL_DATE, NO_CACHE_SWITCH
from laminar.errors import ArtifactError, ConfigurationError, ExecutionError
from laminar.ir import FlowIR
from laminar.model.input_values import DATE_TIME
from laminar.model.parameters import InputSpec, Parameters, resolve_inputs
from laminar.store.execution import Execution, reading
from laminar.store.inputs import commit_inputs, conflict, read_inputs


def start(ir: FlowIR, execution: Execution, given: dict[str, Any] | None) -> dict[str, Any]:
    """Commit the execution's inputs (``given`` checked, defaults filled), or check ``given``
    against those already committed; returns the inputs in force."""
    if not given and not ir.inputs:
        return read_inputs(execution.objects) or {}  # nothing declared, nothing given: no write
    committed = read_inputs(execution.objects)
    if committed is not None and not given:
        return committed
    resolved = resolve_inputs(ir.inputs, with_logical_date(ir, given))
    if committed is None:
        execution.ensure_created()
        commit_inputs(execution.objects, resolved)  # another start's other inputs: refused
        return resolved
    if committed != resolved:
        raise ExecutionError(conflict(execution.id, committed, resolved))
    return committed


def check_inputs(ir: FlowIR, execution: Execution, given: dict[str, Any] | None) -> None:
    """Raise what ``start`` would for bad inputs, writing nothing: the executor checks them
    before it takes the lease (which creates the execution's directory)."""
    if (given or ir.inputs) and (given or read_inputs(execution.objects) is None):
        resolve_inputs(ir.inputs, with_logical_date(ir, given))


def with_logical_date(ir: FlowIR, given: dict[str, Any] | None) -> dict[str, Any]:
    """``given``, each ``LogicalDate()`` input not in it set to the run's logical date: the
    one the orchestrator hands over (``$LAMINAR_LOGICAL_DATE``), else today in the
    schedule's timezone."""
    found = dict(given or {})
    # A form's empty field or a param left at None: the orchestrator gave no date.
    missing = [
        spec for spec in ir.inputs if spec.logical_date and found.get(spec.name) in ("", None)
    ]
    schedule = ir.settings.schedule
    timezone = schedule.timezone if schedule is not None else None
    handed_over = os.environ.get(ENV_LOGICAL_DATE, "")
    for spec in missing:  # a datetime.datetime input takes the logical time, not only the day
        found[spec.name] = logical_date(handed_over, timezone, moment=spec.format == DATE_TIME)
    return found


def from_environment() -> dict[str, Any]:
    """Inputs handed over by an orchestrator (see ``laminar.contract``): a JSON object in
    ``LAMINAR_INPUTS`` (but for the no-cache switch), and/or one base64-encoded text per
    ``LAMINAR_INPUT_<name>``."""
    given: dict[str, Any] = {}
    text = os.environ.get(ENV_INPUTS, "")
    if text.strip():
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if not isinstance(value, dict):
            raise ConfigurationError(
                f"{ENV_INPUTS} must hold a JSON object of the flow's inputs, not {text[:60]!r}."
            )
        given.update(value)
        # The per-run switch that ignores the cache, beside the inputs (Airflow's params,
        # GitHub's toJSON(inputs)): the target hands it over as LAMINAR_NO_CACHE, not an input.
        given.pop(NO_CACHE_SWITCH, None)
    for key, encoded in sorted(os.environ.items()):
        if key.startswith(ENV_INPUT_PREFIX):
            name = key[len(ENV_INPUT_PREFIX) :]
            try:
                given[name] = base64.b64decode(encoded, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise ConfigurationError(
                    f"{key} must hold the input's text in base64, as the generated workflow "
                    "writes it."
                ) from None
    return given


class InputsReader:
    """What a ``Parameters`` view reads: the committed inputs, with errors that say the fix."""

    def __init__(
        self, inputs: dict[str, Any], reader: str, declared: tuple[InputSpec, ...]
    ) -> None:
        self.inputs = inputs
        self.reader = reader
        self.declared = {spec.name: spec for spec in declared}

    def stores(self, attribute: str) -> bool:
        return attribute in self.inputs

    def read(self, attribute: str) -> Any:
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        if attribute not in self.inputs:
            known = ", ".join(sorted(self.inputs)) or "none"
            raise ArtifactError(
                f"{reading(self.reader)} parameters.{attribute}, but this execution has no "
                f"input named {attribute!r} (its inputs: {known}). Pass it with "
                f"-p {attribute}=VALUE, or declare it on the Flow class."
            )
        spec = self.declared.get(attribute)
        value = self.inputs[attribute]
        return spec.python(value) if spec is not None else value


def parameters_view(
    inputs: dict[str, Any], reader: str, declared: tuple[InputSpec, ...]
) -> Parameters:
    """The ``Parameters`` layer as ``reader`` sees it: the committed ``inputs``, each read as
    its ``declared`` type (a date input as a ``datetime.date``)."""
    view = Parameters.__new__(Parameters)
    view.__dict__["_laminar_reader"] = InputsReader(inputs, reader, declared)
    return view
