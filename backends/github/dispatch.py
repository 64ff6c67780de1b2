"""The flow's inputs as GitHub's ``workflow_dispatch`` inputs: the "Run workflow" form."""

from __future__ import annotations

from laminar.backends.jobs import JobGraph, input_text
from laminar.errors import CompileError

#: GitHub's limit on the inputs of one ``workflow_dispatch``.
MAX_INPUTS = 25
#: Declared input types as GitHub's: numbers, lists and dicts are text (the shim converts them
#: by the declared type; actionlint and older GitHub Enterprise know no "number" input).
INPUT_TYPES = {"string": "string", "integer": "string", "number": "string",
               "boolean": "boolean", "array": "string", "object": "string"}  # fmt: skip


def dispatch_inputs(graph: JobGraph) -> dict[str, dict[str, object]]:
    """The flow's inputs as ``workflow_dispatch`` inputs: GitHub's "Run workflow" form."""
    if len(graph.inputs) > MAX_INPUTS:
        raise CompileError(
            f"Flow {graph.flow} declares {len(graph.inputs)} inputs; a GitHub workflow takes "
            f"at most {MAX_INPUTS}. Group some into one dict input."
        )
    found: dict[str, dict[str, object]] = {}
    for spec in graph.inputs:
        described = spec.description or f"{spec.type} input"
        entry: dict[str, object] = {"description": described, "required": spec.required}
        if spec.choices:
            entry["type"] = "choice"
            entry["options"] = [_form_text(spec.name, choice) for choice in spec.choices]
        else:
            entry["type"] = INPUT_TYPES[spec.type]
        if not spec.required:
            default = spec.default
            entry["default"] = (
                default if entry["type"] == "boolean" else _form_text(spec.name, default)
            )
        found[spec.name] = entry
    return found


def _form_text(name: str, value: object) -> str:
    """A default or option of the "Run workflow" form: GitHub shows it as written, so a
    ``${{``, which it cannot show, is refused rather than escaped."""
    text = input_text(value)
    if "${{" in text:
        raise CompileError(
            f"Input {name!r}: the value {text!r} holds '${{{{', which a GitHub workflow_dispatch "
            "form cannot show; choose another default or option."
        )
    return text
