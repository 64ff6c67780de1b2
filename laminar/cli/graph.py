"""``laminar graph``: the IR as Mermaid, Graphviz dot, JSON or plain text."""

from __future__ import annotations

import json

from laminar.ir import FlowIR, LayerSpec


def _label(spec: LayerSpec) -> str:
    if not spec.is_foreach:
        return spec.name
    over = ", ".join(
        f"{p.layer}.{p.attribute}" + (" 1:1" if p.mapped else "") for p in spec.foreach
    )
    return f"{spec.name} (foreach {over})"


def to_mermaid(ir: FlowIR) -> str:
    lines = ["flowchart TD"]
    for spec in ir.specs():
        text = json.dumps(_label(spec))
        shape = f"[[{text}]]" if spec.is_foreach else f"[{text}]"
        lines.append(f"    {spec.name}{shape}")
    for spec in ir.specs():
        for upstream in spec.dependencies:
            lines.append(f"    {upstream} --> {spec.name}")
    return "\n".join(lines) + "\n"


def to_dot(ir: FlowIR) -> str:
    lines = [f"digraph {json.dumps(ir.name)} {{", "    rankdir=TB;"]
    for spec in ir.specs():
        shape = "box3d" if spec.is_foreach else "box"
        lines.append(
            f"    {json.dumps(spec.name)} [label={json.dumps(_label(spec))}, shape={shape}];"
        )
    for spec in ir.specs():
        for upstream in spec.dependencies:
            lines.append(f"    {json.dumps(upstream)} -> {json.dumps(spec.name)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_json(ir: FlowIR) -> str:
    layers = []
    for spec in ir.specs():
        layers.append(
            {
                "name": spec.name,
                "dependencies": list(spec.dependencies),
                "arguments": {arg: layer for arg, layer in spec.arguments},
                "foreach": [
                    {"layer": p.layer, "attribute": p.attribute, "index": None if p.mapped else 0}
                    for p in spec.foreach
                ],
                "retry": None
                if spec.retry is None
                else {
                    "attempts": spec.retry.attempts,
                    "delay": spec.retry.delay,
                    "backoff": spec.retry.backoff,
                },
                "container": None
                if spec.container is None
                else {
                    "image": spec.container.image,
                    "cpu": spec.container.cpu_quantity,
                    "memory": spec.container.memory,
                    "env": dict(spec.container.env),
                },
            }
        )
    return json.dumps({"flow": ir.name, "layers": layers}, indent=2) + "\n"


def to_text(ir: FlowIR) -> str:
    lines = [ir.name]
    for spec in ir.specs():
        after = f"  <- {', '.join(spec.dependencies)}" if spec.dependencies else ""
        lines.append(f"  {_label(spec)}{after}")
    return "\n".join(lines) + "\n"


FORMATS = {"text": to_text, "mermaid": to_mermaid, "dot": to_dot, "json": to_json}
