"""The dialect base: what a target declares, and the one way every target is generated.

A dialect is its traits (``backends/traits.py``: name rule, plan format, whether the shim or
the orchestrator retries, ...), its options dataclass, its size limit, and one method per kind
of job in the lowered graph (``run_job``, ``plan_job``, ``mapped_job``) plus ``render`` to
assemble them.
``generate`` is the same for every target: lower the IR once, let the dialect translate each
job, then check the target's size limit.
"""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Sequence
from typing import Any, ClassVar

from laminar.backends import options as opts
from laminar.backends.jobs import Job, JobGraph, JobKind
from laminar.backends.lowering import CompileOptions, lower
from laminar.backends.traits import Traits
from laminar.configurations.hooks import RETRY, SUBMISSION
from laminar.errors import CompileError, CompileWarning
from laminar.ir import FlowIR
from laminar.model.chains import Chain
from laminar.text import printable


class Dialect:
    """Base of every target. Subclasses set ``TRAITS`` and override the job methods."""

    #: ``--target`` name, and a line describing what is generated.
    target: ClassVar[str]
    description: ClassVar[str]
    #: The target's options dataclass (fields made with ``backends.options.option``).
    options_class: ClassVar[type[Any]]
    #: What the lowering needs to know of the target: the flags of ``backends/traits.py``.
    TRAITS: ClassVar[Traits]
    #: The largest file the target accepts, its name, and what else the user can do.
    max_output_bytes: ClassVar[int | None] = None
    output_limit: ClassVar[str] = ""
    limit_fix: ClassVar[str] = ""
    #: How one of the target's runs starts another (a chain of flows, ``Execution.next``):
    #: what to write by hand, since a chain is not compiled.
    chaining: ClassVar[str] = "the target's own way to start a run from another"

    def __init__(self, options: CompileOptions) -> None:
        self.options = options
        given = options.target_options
        if given is not None and not isinstance(given, self.options_class):
            raise CompileError(
                f"{type(given).__name__} are not {self.target} options; "
                f"use {self.options_class.__name__}."
            )
        #: This target's own options, validated when they were built.
        self.settings: Any = given if given is not None else self.options_class()

    @property
    def traits(self) -> Traits:
        """``TRAITS`` with the traits that depend on the options set (overridden where some
        do: a cap on legs, where outputs go)."""
        return self.TRAITS

    # -- command-line options ---------------------------------------------------------------
    @classmethod
    def add_arguments(cls, group: argparse._ArgumentGroup) -> None:
        opts.add_arguments(group, cls.options_class, f"{cls.target}_")

    @classmethod
    def options_from(cls, arguments: argparse.Namespace) -> Any:
        return opts.from_arguments(cls.options_class, arguments, f"{cls.target}_")

    # -- generating -------------------------------------------------------------------------
    #: What to do instead of ``Container(pool=...)`` where there are no Airflow pools.
    NO_POOLS = "cap its running tasks with ForEach(concurrency=N) (pools are Airflow's)"

    def dropped(self) -> dict[str, str]:
        """``Container`` fields the target cannot apply -> what to do instead (overridden
        where there are some): each one a layer sets is a ``CompileWarning``."""
        return {}

    def warn_dropped(self, ir: FlowIR) -> None:
        """One warning per layer and ``Container`` setting the target cannot apply, naming
        the layer, the setting and the alternative: nothing is dropped silently."""
        dropped = self.dropped()
        where = f" {self.where()}" if self.where() else ""
        for spec in ir.specs():
            for kind in (SUBMISSION, RETRY):
                if spec.hooks_of(kind) and not self.traits.sized_pods:
                    warnings.warn(
                        f"Layer {spec.name}: {self.target} does not give its tasks the "
                        f"resources its @hooks.{kind} hook decides{where}: they get the "
                        "declared Container(cpu=..., memory=...), so declare what the largest "
                        "task needs (Argo sizes each pod as the hooks decide). The hook still "
                        "runs in each task: __call__ and the task's log see its values.",
                        CompileWarning,
                        stacklevel=3,
                    )
            container = spec.settings.container
            if container is None:
                continue
            for name, instead in dropped.items():
                if getattr(container, name) not in (None, (), {}):
                    warnings.warn(
                        f"Layer {spec.name}: {self.target} cannot apply Container({name}=...)"
                        f"{where}; {instead}.",
                        CompileWarning,
                        stacklevel=3,
                    )

    @classmethod
    def unchained(cls, flow: str, file: str, chains: Sequence[Chain]) -> list[str]:
        """One warning per chain of flows in the flow file (``.next(...)``, run locally only):
        what the output does instead, and how to run the chain on the target."""
        name, shown = printable(flow), printable(file)
        instead = (
            f"Compose the flows into one flow (class Both({name}, NextFlow), a layer of NextFlow "
            f"taking {name}'s layer as an argument) and compile that, or compile the next flow "
            f"too and start it with {cls.chaining}, or run the chain locally (python {shown})."
        )
        found = []
        for chain in chains:
            call = f".next(flow={printable(chain.following) or '...'}, ...)"
            if chain.function:  # in a hook or a layer: refused where a deployed task runs it
                what = (
                    f" in {printable(chain.function)}(), which a deployed task refuses: the "
                    f"{cls.target} output fails where it runs {printable(chain.function)}()"
                )
            else:
                what = f", which is not compiled: the {cls.target} output runs {name} alone"
            found.append(f"{shown} line {chain.line} chains flows with {call}{what}. {instead}")
        return found

    def run_time_env(self) -> dict[str, str]:
        """What the generated file hands every task when it runs, beyond the contract's ids
        and the job's own env (overridden where a target adds some): for a rehearsal."""
        return {}

    def where(self) -> str:
        """How the target runs tasks, for warnings (``with the python operator``)."""
        return ""

    def generate(self, ir: FlowIR) -> str:
        """The target's file for ``ir``; raises ``CompileError`` when it cannot be made."""
        graph = lower(ir, self.options, self.traits, self.target)
        self.warn_dropped(ir)
        text = self.render(graph)
        self.check_size(graph, text)
        return text

    def render(self, graph: JobGraph) -> str:
        raise NotImplementedError

    def translate(self, graph: JobGraph, job: Job) -> Any:
        """The target's object(s) for one job: dispatches on the job's kind."""
        method = {
            JobKind.RUN: self.run_job,
            JobKind.PLAN: self.plan_job,
            JobKind.MAPPED: self.mapped_job,
        }[job.kind]
        return method(graph, job)

    def run_job(self, graph: JobGraph, job: Job) -> Any:
        raise NotImplementedError

    def plan_job(self, graph: JobGraph, job: Job) -> Any:
        raise NotImplementedError

    def mapped_job(self, graph: JobGraph, job: Job) -> Any:
        raise NotImplementedError

    def check_size(self, graph: JobGraph, text: str) -> None:
        """Refuse output the target would reject at run time."""
        size = len(text.encode("utf-8"))
        if self.max_output_bytes is not None and size > self.max_output_bytes:
            raise CompileError(
                f"The {self.target} output for {graph.flow} is {size:,} bytes, over "
                f"{self.output_limit} ({self.max_output_bytes:,} bytes), so {self.target} "
                f"would reject it. Split the flow into smaller flows or merge small layers"
                f"{self.limit_fix}."
            )
