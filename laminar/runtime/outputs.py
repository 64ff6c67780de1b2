"""A finished task's outputs: the attributes its layer set, as manifest entries.

What the layer holds at the end is what is stored: an attribute assigned after ``shard()``
of the same name stores the assigned value, and ``shard()`` after an assignment stores the
shards (the ``Accessor`` ``shard()`` put there is how its chunks are recognised). Names laminar
itself answers downstream (``state``) are refused, naming the attribute.
"""

from __future__ import annotations

from typing import Any

from laminar.errors import ArtifactError
from laminar.ir import LayerSpec
from laminar.model.layer import RESERVED_OUTPUTS, Layer
from laminar.store.execution import Execution
from laminar.text import describe_bytes, invalid_utf8


def check_output_name(layer: str, name: str) -> None:
    """Refuse an output ``name`` that cannot be stored (set, or passed to ``shard()``)."""
    if name in RESERVED_OUTPUTS:
        raise ArtifactError(
            f"Layer {layer} set self.{name}, a name laminar answers itself downstream "
            f"({name}.finished says whether {layer} finished), so it cannot be stored. "
            f"Give the attribute another name."
        )
    if invalid_utf8(name):
        raise ArtifactError(
            f"Layer {layer} set an attribute named {describe_bytes(name)}, which is not "
            "valid UTF-8 and cannot be stored; give it a UTF-8 name."
        )


def outputs(
    execution: Execution,
    spec: LayerSpec,
    layer: Layer,
    shards: dict[str, tuple[Any, Any]],
    attempt_dir: str,
) -> dict[str, Any]:
    """Attribute name -> manifest entry for what ``layer`` holds; ``shards`` maps each name
    ``shard()`` wrote to its (entry, Accessor)."""
    by_accessor = {id(accessor): entry for entry, accessor in shards.values()}
    stored: dict[str, Any] = {}
    for name, value in vars(layer).items():
        if name.startswith("_"):
            continue
        check_output_name(spec.name, name)
        entry = by_accessor.get(id(value))
        if entry is None:
            entry = execution.codec.encode(spec.name, name, value, attempt_dir)
        stored[name] = entry
    return stored
