"""Compile-time checks of what a flow asks of a target, each a ``CompileError`` naming the
fix: a schedule whose runs could not get every input, a value the contract refuses."""

from __future__ import annotations

from collections.abc import Callable

from laminar.configurations.schedule import Schedule
from laminar.errors import CompileError, LaminarError
from laminar.ir import FlowIR
from laminar.model.parameters import InputSpec


def scheduled(ir: FlowIR) -> Schedule | None:
    """The flow's schedule, refused when a run it starts could not get every input."""
    schedule = ir.settings.schedule
    if schedule is not None:
        check_schedulable(ir.name, ir.inputs, f"Schedule({schedule.cron!r})")
    return schedule


def check_schedulable(flow: str, inputs: tuple[InputSpec, ...], schedule: str) -> None:
    """A scheduled run gets no inputs: each must have a default or be a ``LogicalDate()``."""
    for spec in inputs:
        if spec.required:
            raise CompileError(
                f"Flow {flow} runs on {schedule}, but its input {spec.name!r} has no default, "
                "so a scheduled run could not start: give it a default "
                f"({spec.name}: {spec.type} = ...), or {spec.name}: str = LogicalDate() for "
                "the run's date."
            )


def checked(check: Callable[[str, str], str], value: str, option: str) -> str:
    """``check(value, option)`` from the contract, its error as a ``CompileError``."""
    try:
        return check(value, option)
    except LaminarError as error:
        raise CompileError(str(error)) from None
