"""``laminar graph``: the IR as Mermaid, Graphviz dot, JSON or plain text.

Layer names are any text (``type(name, ...)``), so each format escapes them for its place:
Mermaid and dot name nodes ``n0``, ``n1``... and carry names in quoted labels; text shows
control codes escaped; JSON escapes by construction.
"""

from __future__ import annotations

import argparse
import json
import sys

from laminar.configurations.settings import to_data
from laminar.ir import FlowIR, LayerSpec
from laminar.model.flow import Flow
from laminar.model.parameters import PARAMETERS
from laminar.text import printable


def _label(spec: LayerSpec) -> str:
    """The layer's name, what it fans out over, and what may keep it from finishing: its
    entry hooks (``if ready()``) and ``Catch`` (``catch ValueError``)."""
    notes: list[str] = []
    if spec.is_foreach:
        over = ", ".join(
            f"{p.layer}.{p.attribute}" + (" 1:1" if p.mapped else "") for p in spec.foreach
        )
        notes.append(f"foreach {over}")
    entry = [hook.name for hook in spec.hooks_of("entry")]
    if entry:
        notes.append("if " + " and ".join(f"{name}()" for name in entry))
    catch = spec.settings.catch
    if catch is not None:
        notes.append("catch " + ", ".join(catch.names()))
    if spec.settings.timeout is not None:
        notes.append(f"timeout {spec.settings.timeout:g}s")
    foreach = spec.settings.foreach
    if foreach is not None and foreach.concurrency is not None:
        notes.append(f"at most {foreach.concurrency} at once")
    return f"{spec.name} ({'; '.join(notes)})" if notes else spec.name


#: The node of the built-in Parameters layer (the flow's inputs), when there is one.
PARAMETERS_NODE = "p"


def _parameters(ir: FlowIR) -> str | None:
    """The Parameters node's label, when the flow declares inputs or a layer reads them."""
    if not ir.inputs and not any(spec.reads_inputs for spec in ir.specs()):
        return None
    declared = [
        spec.name if spec.required else f"{spec.name}={json.dumps(spec.default)}"
        for spec in ir.inputs
    ]
    return f"{PARAMETERS} ({', '.join(declared)})" if declared else PARAMETERS


def _node_ids(ir: FlowIR) -> dict[str, str]:
    """Layer name -> ``n0``, ``n1``...: a node id never holds the user's text, so no name
    (``end``, ``--help``, ``a b``, a newline) can become syntax; names live in labels only."""
    return {name: f"n{index}" for index, name in enumerate(ir.order)}


#: Characters a Mermaid label keeps as they are; everything else becomes an entity code
#: (``#34;``), so no quote, bracket, ``<`` or backtick can end the label or become markup.
_MERMAID_PLAIN = frozenset(" _-.,:()+*/=!?'")


def mermaid_label(text: str) -> str:
    """``text`` as a quoted Mermaid label: control codes shown escaped, the rest as entities."""
    inner = "".join(
        c if c.isalnum() or c in _MERMAID_PLAIN else f"#{ord(c)};" for c in printable(text)
    )
    return f'"{inner}"'


def dot_string(text: str) -> str:
    """``text`` as a Graphviz quoted string: control codes shown escaped (``\\n`` shows as
    the two characters, not a line break), backslashes and quotes escaped."""
    inner = printable(text).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{inner}"'


def to_mermaid(ir: FlowIR) -> str:
    ids = _node_ids(ir)
    lines = ["flowchart TD"]
    for spec in ir.specs():
        text = mermaid_label(_label(spec))
        shape = f"[[{text}]]" if spec.is_foreach else f"[{text}]"
        lines.append(f"    {ids[spec.name]}{shape}")
    parameters = _parameters(ir)
    if parameters is not None:
        lines.append(f"    {PARAMETERS_NODE}[/{mermaid_label(parameters)}/]")
    for spec in ir.specs():
        for upstream in spec.dependencies:
            lines.append(f"    {ids[upstream]} --> {ids[spec.name]}")
        if spec.reads_inputs:
            lines.append(f"    {PARAMETERS_NODE} -.-> {ids[spec.name]}")
    return "\n".join(lines) + "\n"


def to_dot(ir: FlowIR) -> str:
    ids = _node_ids(ir)
    lines = [f"digraph {dot_string(ir.name)} {{", "    rankdir=TB;"]
    for spec in ir.specs():
        shape = "box3d" if spec.is_foreach else "box"
        lines.append(f"    {ids[spec.name]} [label={dot_string(_label(spec))}, shape={shape}];")
    parameters = _parameters(ir)
    if parameters is not None:
        lines.append(f"    {PARAMETERS_NODE} [label={dot_string(parameters)}, shape=note];")
    for spec in ir.specs():
        for upstream in spec.dependencies:
            lines.append(f"    {ids[upstream]} -> {ids[spec.name]};")
        if spec.reads_inputs:
            lines.append(f"    {PARAMETERS_NODE} -> {ids[spec.name]} [style=dashed];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_json(ir: FlowIR) -> str:
    """The IR as JSON: each layer's graph facts, then every setting it was registered with
    (``to_data``: a new setting appears here without being listed). ``foreach`` is the
    resolved fan-out (``index`` 0 or None); the flow's own settings are under ``settings``."""
    layers = []
    for spec in ir.specs():
        settings = to_data(spec.settings)
        del settings["foreach"]  # shown resolved, below
        layers.append(
            {
                "name": spec.name,
                "dependencies": list(spec.dependencies),
                "reads_inputs": spec.reads_inputs,
                "arguments": {arg: layer for arg, layer in spec.arguments},
                "foreach": [
                    {"layer": p.layer, "attribute": p.attribute, "index": None if p.mapped else 0}
                    for p in spec.foreach
                ],
                "hooks": [
                    {"kind": hook.kind, "name": hook.name, "flow": hook.on_flow}
                    for hook in spec.hooks
                ],
                **settings,
            }
        )
    inputs = [
        {"name": spec.name, "type": spec.type, "required": spec.required,
         "default": spec.default, "choices": list(spec.choices)}
        for spec in ir.inputs
    ]  # fmt: skip
    document = {
        "flow": ir.name,
        "settings": to_data(ir.settings),
        "inputs": inputs,
        "layers": layers,
    }
    return json.dumps(document, indent=2) + "\n"


def to_text(ir: FlowIR) -> str:
    timeout = ir.settings.timeout
    notes = [f"timeout {timeout:g}s"] if timeout is not None else []
    notes += [f"exit hook {hook.name}()" for hook in ir.exits]
    lines = [printable(ir.name) + (f" ({'; '.join(notes)})" if notes else "")]
    parameters = _parameters(ir)
    if parameters is not None:
        lines.append(f"  {printable(parameters)}")
    for spec in ir.specs():
        names = [*spec.dependencies, *([PARAMETERS] if spec.reads_inputs else [])]
        upstream = ", ".join(printable(name) for name in names)
        after = f"  <- {upstream}" if upstream else ""
        lines.append(f"  {printable(_label(spec))}{after}")
    return "\n".join(lines) + "\n"


FORMATS = {"text": to_text, "mermaid": to_mermaid, "dot": to_dot, "json": to_json}


def graph_command(flow: type[Flow], args: argparse.Namespace) -> int:
    """``laminar graph FLOW``: the layers in ``--format``; with ``--target T``, the jobs the
    target would run, as ``laminar run FLOW --target T --dry-run`` prints them (one home for
    that text)."""
    if args.target is not None:
        from laminar.cli.rehearse import rehearse_main

        return rehearse_main([args.flow, "--target", args.target, "--dry-run"])
    sys.stdout.write(FORMATS[args.format](flow.ir()))
    return 0
