"""Strict validation of Argo Workflow resources.

The official schema (argo-workflows.schema.json, Apache-2.0, see SCHEMA-LICENSE.md) lets any
unknown key through, and so does the Kubernetes API server: it prunes unknown fields of a CRD
silently, so a misspelled key in a generated manifest is dropped rather than rejected. The
strict copy built here closes every object definition that lists `properties`, so a typo
fails the tests instead of vanishing on the cluster. `crossref.py` adds what a schema cannot
express (templates, tasks and `{{...}}` references that must exist).
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import yaml

from .crossref import check_references

SCHEMA_PATH = Path(__file__).with_name("argo-workflows.schema.json")
PREFIX = "io.argoproj.workflow.v1alpha1."
KINDS = ("Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow")

# Kubernetes serialises these as "int or string" (`x-kubernetes-int-or-string`), and YAML
# writers emit `cpu: 1` or `limit: 3` as numbers; the exported schema says only "string".
_NUMBER_OR_STRING = {
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": ["integer", "string"],
    "io.k8s.apimachinery.pkg.api.resource.Quantity": ["number", "string"],
}


@functools.cache
def strict_schema() -> dict[str, Any]:
    """The official schema with `additionalProperties: false` on every object with properties.

    Definitions that already say what extra keys may hold (maps such as labels) are left as
    they are; free-form definitions without `properties` (Item, Plugin) stay open.
    """
    with SCHEMA_PATH.open(encoding="utf-8") as handle:
        schema: dict[str, Any] = json.load(handle)
    definitions: dict[str, Any] = schema["definitions"]
    for name, definition in definitions.items():
        if name in _NUMBER_OR_STRING:
            definition["type"] = _NUMBER_OR_STRING[name]
        _close(definition)
    return schema


def _close(node: Any) -> None:
    """Close `node` and the schemas nested in it (walked by keyword, not by every dict)."""
    if not isinstance(node, dict):
        return
    if "properties" in node and "additionalProperties" not in node:
        node["additionalProperties"] = False
    for child in node.get("properties", {}).values():
        _close(child)
    for key in ("items", "additionalProperties"):
        _close(node.get(key))
    for key in ("allOf", "anyOf", "oneOf"):
        for child in node.get(key, []):
            _close(child)


@functools.cache
def _validator(kind: str) -> Any:
    schema = copy.copy(strict_schema())
    schema.pop("oneOf", None)
    schema["$ref"] = f"#/definitions/{PREFIX}{kind}"
    # No check_schema: the official file is a valid schema, and checking it costs seconds.
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def _where(path: Any) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out.lstrip(".") or "(document)"


def _describe(error: Any) -> str:
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        unknown = sorted(k for k in error.instance if k not in allowed)
        return (
            f"unknown key(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(sorted(allowed))}"
        )
    return str(error.message)


def schema_errors(doc: dict[str, Any]) -> list[str]:
    """Schema violations of one resource, as `path: message` lines (deepest cause first)."""
    kind = doc.get("kind")
    if kind not in KINDS:
        return [f"kind: expected one of {', '.join(KINDS)}, got {kind!r}"]
    errors = []
    for error in sorted(_validator(kind).iter_errors(doc), key=lambda e: list(e.absolute_path)):
        leaves = [error]
        # oneOf/anyOf failures carry the real reasons in their context.
        while leaves[0].context:
            leaves = sorted(leaves[0].context, key=lambda e: len(e.absolute_path))[-1:]
        for leaf in leaves:
            errors.append(f"{_where(leaf.absolute_path)}: {_describe(leaf)}")
    return errors


def validate_workflow(doc: dict[str, Any] | str) -> list[str]:
    """Every problem found in a Workflow, WorkflowTemplate or CronWorkflow (empty = valid).

    `doc` is the parsed resource or its YAML text. Schema errors come first; the
    cross-reference checks run only on a schema-valid document, so they can trust its shape.
    """
    if isinstance(doc, str):
        loaded = yaml.safe_load(doc)
        if not isinstance(loaded, dict):
            return ["document: expected a YAML mapping"]
        doc = loaded
    errors = schema_errors(doc)
    if errors:
        return errors
    return check_references(doc)


def assert_valid_workflow(doc: dict[str, Any] | str) -> None:
    """pytest helper: fail with every problem listed, one per line."""
    errors = validate_workflow(doc)
    if errors:
        raise AssertionError("invalid Argo resource:\n  " + "\n  ".join(errors))
