"""What every target shares: the plan of steps, the shim command lines, ids and rendering.

A backend is a small subclass (see ``argo.py``, ``airflow.py``, ``github.py``) that declares
its naming rule, its template and its options, and adds to the template context only what
differs for its target. The meaning of the flow (dependencies, fan-out, retries) comes from
the IR and is never re-decided here.
"""

from __future__ import annotations

import argparse
import importlib.resources
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import jinja2

from laminar import __version__
from laminar.backends import escaping
from laminar.backends.naming import NameRule, assign_ids
from laminar.errors import CompileError
from laminar.ir import FlowIR, LayerSpec

#: Environment variables through which orchestrators hand run-time values to the shim.
#: Passing them as environment (not pasted into command lines) keeps every command static.
ENV_EXECUTION = "LAMINAR_EXECUTION"
ENV_DATASTORE = "LAMINAR_DATASTORE"
ENV_LEG = "LAMINAR_LEG"


@dataclass(frozen=True)
class CompileOptions:
    """Options every target understands; target-specific ones are in ``extra``."""

    #: How generated commands name the flow: ``path/to/flow.py:FlowName``, relative.
    flow_ref: str
    datastore: str | None = None
    image: str | None = None
    #: The command that regenerates the output, quoted for a shell; shown in the header.
    command: str = ""
    #: The laminar executable inside tasks.
    laminar: tuple[str, ...] = ("laminar",)
    extra: Mapping[str, Any] = field(default_factory=dict)

    def get(self, name: str, default: Any = None) -> Any:
        value = self.extra.get(name)
        return default if value is None else value


@dataclass(frozen=True)
class Step:
    """One layer as every target sees it."""

    spec: LayerSpec
    #: The layer's task/job id, legal for the target.
    id: str
    #: The id of the planning task that counts a ForEach layer's tasks; ``None`` otherwise.
    plan_id: str | None
    #: Ids of the steps this one waits for.
    upstream: tuple[str, ...]
    #: Shim command that runs the layer (add ``LAMINAR_LEG`` for a ForEach leg).
    task_argv: tuple[str, ...]
    #: Shim command that plans a ForEach layer, without its output format options.
    plan_argv: tuple[str, ...] | None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def is_foreach(self) -> bool:
        return self.spec.is_foreach


@dataclass(frozen=True)
class Plan:
    flow: str
    flow_ref: str
    steps: tuple[Step, ...]
    header: tuple[str, ...]

    def step(self, layer: str) -> Step:
        return next(s for s in self.steps if s.name == layer)


class Backend:
    """Base renderer. Subclasses set the class attributes and override ``context``."""

    target: ClassVar[str]
    description: ClassVar[str]
    rule: ClassVar[NameRule]
    template: ClassVar[str]
    #: Appended to a ForEach layer's id to name its planning step.
    plan_suffix: ClassVar[str] = "-plan"
    #: Ids the target reserves (for example the DAG template's own name).
    reserved: ClassVar[tuple[str, ...]] = ()
    #: The comment marker for the header lines.
    comment: ClassVar[str] = "#"
    #: The largest file the target accepts, and the limit's name for the error message.
    max_output_bytes: ClassVar[int | None] = None
    output_limit: ClassVar[str] = ""
    #: What the user can do about an oversized output, besides splitting the flow.
    limit_fix: ClassVar[str] = ""

    @classmethod
    def add_arguments(cls, group: argparse._ArgumentGroup) -> None:
        """Register target-specific ``laminar compile`` options (``dest`` names unique)."""

    def plan(self, ir: FlowIR, options: CompileOptions) -> Plan:
        names = list(ir.order)
        ids = assign_ids(names, self.rule, reserved=self.reserved)
        foreach = [n for n in names if ir.spec(n).is_foreach]
        plan_ids = assign_ids(
            foreach,
            self.rule,
            reserved=[*self.reserved, *ids.values()],
            suffix=self.plan_suffix,
        )
        steps = []
        for spec in ir.specs():
            base = (*options.laminar, "{command}", options.flow_ref, "--layer", spec.name)
            steps.append(
                Step(
                    spec=spec,
                    id=ids[spec.name],
                    plan_id=plan_ids.get(spec.name),
                    upstream=tuple(ids[d] for d in spec.dependencies),
                    task_argv=_with_command(base, "task"),
                    plan_argv=_with_command(base, "plan") if spec.is_foreach else None,
                )
            )
        return Plan(
            flow=ir.name,
            flow_ref=options.flow_ref,
            steps=tuple(steps),
            header=self.header(ir, options),
        )

    def header(self, ir: FlowIR, options: CompileOptions) -> tuple[str, ...]:
        lines = [
            f"Generated by laminar {__version__} from {options.flow_ref} "
            f"(target: {self.target}). Do not edit by hand.",
        ]
        if options.command:
            lines.append(f"Regenerate with: {options.command}")
        # A comment line must stay one line in every target's language: YAML and Python also
        # break lines at \x85, \u2028 and \u2029, which str.splitlines() knows.
        return tuple(" ".join(line.splitlines()) for line in lines)

    def context(self, plan: Plan, options: CompileOptions) -> dict[str, Any]:
        """The template's variables; subclasses add their target's own."""
        return {"plan": plan, "options": options, "steps": plan.steps}

    def check_limits(self, ir: FlowIR, text: str) -> None:
        """Refuse output the target would reject at run time (checked by ``laminar compile``)."""
        size = len(text.encode("utf-8"))
        if self.max_output_bytes is not None and size > self.max_output_bytes:
            raise CompileError(
                f"The {self.target} output for {ir.name} is {size:,} bytes, over "
                f"{self.output_limit} ({self.max_output_bytes:,} bytes), so {self.target} "
                f"would reject it. Split the flow into smaller flows or merge small layers"
                f"{self.limit_fix}."
            )

    def render(self, ir: FlowIR, options: CompileOptions) -> str:
        plan = self.plan(ir, options)
        template = _environment().get_template(self.template)
        text = template.render(**self.context(plan, options))
        return text if text.endswith("\n") else text + "\n"


def _with_command(base: tuple[str, ...], command: str) -> tuple[str, ...]:
    return tuple(command if part == "{command}" else part for part in base)


_ENV: jinja2.Environment | None = None


def _environment() -> jinja2.Environment:
    global _ENV
    if _ENV is None:
        root = importlib.resources.files("laminar.templates")
        _ENV = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(root)),
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        _ENV.filters.update(
            yaml=escaping.yaml_scalar,
            py=escaping.python_literal,
            sh=escaping.shell_word,
            shell_command=escaping.shell_command,
            gh=escaping.github_text,
        )
    return _ENV
