"""The flow's inputs as GitHub's ``workflow_dispatch`` inputs: the "Run workflow" form."""

from __future__ import annotations

import warnings

from laminar.backends.checks import check_schedulable
from laminar.backends.document import Expression
from laminar.backends.github.spec import Concurrency, dispatch_input, workflow_group
from laminar.backends.jobs import JobGraph, input_text
from laminar.configurations.schedule import cron_of
from laminar.contract import ENV_NO_CACHE, NO_CACHE_SWITCH
from laminar.errors import CompileError, CompileWarning

#: GitHub's limit on the inputs of one ``workflow_dispatch``.
MAX_INPUTS = 25
#: Declared input types as GitHub's: numbers, lists and dicts are text (the shim converts them
#: by the declared type; actionlint and older GitHub Enterprise know no "number" input).
INPUT_TYPES = {"string": "string", "integer": "string", "number": "string",
               "boolean": "boolean", "array": "string", "object": "string"}  # fmt: skip


def dispatch_inputs(graph: JobGraph) -> dict[str, dict[str, object]]:
    """The flow's inputs as ``workflow_dispatch`` inputs: GitHub's "Run workflow" form; with a
    cached layer, the switch that ignores the cache comes last (``toJSON(inputs)`` holds it
    too: the shim drops it from the inputs)."""
    limit = MAX_INPUTS - graph.cached
    if len(graph.inputs) > limit:
        switch = " and the switch that ignores the cache" if graph.cached else ""
        raise CompileError(
            f"Flow {graph.flow} declares {len(graph.inputs)} inputs; a GitHub workflow takes "
            f"at most {MAX_INPUTS}{switch}. Group some into one dict input."
        )
    found: dict[str, dict[str, object]] = {}
    if graph.cached:  # first, so an input named alike is refused below (rename the input)
        found[NO_CACHE_SWITCH] = {
            "description": "Run every task, serving none from the cache",
            "required": False,
            "type": "boolean",
            "default": False,
        }
    for spec in graph.inputs:
        alike = next((name for name in found if name.casefold() == spec.name.casefold()), None)
        if alike is not None:  # GitHub reads input names case-insensitively: one form field
            what = "the switch that ignores the cache" if alike == NO_CACHE_SWITCH else "input"
            raise CompileError(
                f"Flow {graph.flow}: input {spec.name!r} and {what} {alike!r} differ only in "
                "case, and GitHub's input names are case-insensitive; rename the input."
            )
        described = spec.description or spec.summary
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
    if graph.cached:  # the form's last field
        found[NO_CACHE_SWITCH] = found.pop(NO_CACHE_SWITCH)
    return found


def no_cache_env(graph: JobGraph) -> dict[str, Expression]:
    """``LAMINAR_NO_CACHE`` from the dispatch form's switch (``true``/``false``; empty for a
    schedule's or a push's run: the cache serves), when a layer is cached."""
    return {ENV_NO_CACHE: dispatch_input(NO_CACHE_SWITCH)} if graph.cached else {}


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


def schedule_of(graph: JobGraph, crons: tuple[str, ...]) -> list[dict[str, str]]:
    """``on.schedule``: ``--schedule`` (which overrides the flow's) or the flow's
    ``Schedule``, presets spelled out (GitHub takes five fields), each read in the
    ``Schedule``'s timezone (GitHub's ``timezone`` key, an IANA name; UTC without it), with a
    warning for what GitHub cannot do: catching up missed runs."""
    schedule = graph.schedule
    chosen = crons or ((schedule.cron,) if schedule is not None else ())
    if not chosen:
        return []
    check_schedulable(graph.flow, graph.inputs, f"schedule {chosen[0]!r}")
    if schedule is not None and schedule.catchup:
        _warn(
            f"Flow {graph.flow}: GitHub Actions does not run missed schedules "
            "(Schedule(catchup=True)); start a run by hand for each missed date with "
            "laminar run --logical-date, or dispatch the workflow."
        )
    zone = {} if schedule is None or schedule.timezone is None else {"timezone": schedule.timezone}
    return [{"cron": cron_of(cron), **zone} for cron in chosen]


def concurrency_of(graph: JobGraph) -> Concurrency | None:
    """``max_active_runs=1``: one concurrency group per workflow, a new run waiting for the
    running one (never cancelling it). GitHub cannot cap at more than one: a warning."""
    runs = graph.max_active_runs
    if runs is None:
        return None
    if runs > 1:
        _warn(
            f"Flow {graph.flow}: GitHub Actions cannot cap a workflow at {runs} runs at once "
            "(only at one, with a concurrency group); runs may overlap. Use max_active_runs=1."
        )
        return None
    return Concurrency(workflow_group())


def _warn(message: str) -> None:
    warnings.warn(message, CompileWarning, stacklevel=3)
