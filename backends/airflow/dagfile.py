"""The DAG file: one jinja2 template per operator kind (``templates/airflow/``), given the
tasks, the DAG's schedule and catch-up, and the options every task shares.

Every user value reaches the file as a Python literal (``| py``) or an escaped comment
(``| comment``); a pod's templated fields get ``| k8s``.
"""

from __future__ import annotations

import importlib.resources
import warnings

import jinja2

from laminar.backends.airflow.options import DEFAULT_START_DATE, AirflowOptions
from laminar.backends.airflow.tasks import AirflowTask
from laminar.backends.checks import check_schedulable
from laminar.backends.escaping import comment_text, python_literal
from laminar.backends.jobs import JobGraph
from laminar.backends.kubernetes import kubernetes_text
from laminar.backends.naming import NameRule, assign_ids
from laminar.backends.options import valid_cron
from laminar.contract import NO_CACHE_SWITCH, SKIPPED_STATUS
from laminar.errors import CompileWarning


def dag_file(
    settings: AirflowOptions, graph: JobGraph, tasks: list[AirflowTask], rule: NameRule
) -> str:
    """The DAG file running ``tasks``; its DAG id is ``--dag-id``, else the flow's name
    under ``rule``."""
    schedule = schedule_of(settings, graph)
    catchup = catchup_of(settings, graph)
    template = _environment().get_template(f"airflow/{settings.operator}.py.j2")
    text = template.render(
        header=graph.header,
        flow=graph.flow,
        dagrun_timeout=graph.timeout,
        description=graph.description,
        dag_id=settings.dag_id or assign_ids([graph.flow], rule)[graph.flow],
        schedule=schedule,
        timezone=graph.schedule.timezone if graph.schedule else None,
        max_active_runs=graph.max_active_runs,
        logical_dates=graph.logical_dates,
        start_date=settings.start(),
        catchup=catchup,
        tags=settings.tags(),
        default_args=settings.default_args(),
        tasks=tasks,
        flow_cwd=settings.flow_cwd,
        datastore=graph.datastore,
        max_map_length=settings.max_map_length,
        inputs=graph.inputs,
        no_cache=NO_CACHE_SWITCH if graph.cached else None,
        signing_key_secret=settings.signing_key_secret,
        in_process=settings.shim == "in-process",
        skipped_status=SKIPPED_STATUS,
        env_secret=settings.env_secret,
    )
    return text if text.endswith("\n") else text + "\n"


def schedule_of(settings: AirflowOptions, graph: JobGraph) -> str | None:
    """The DAG's schedule: ``--schedule`` overrides the flow's ``Schedule``; either is
    checked as a schedule is."""
    schedule = settings.schedule or (graph.schedule.cron if graph.schedule else None)
    if schedule is not None:
        valid_cron(schedule, "--schedule" if settings.schedule else "Schedule")
        check_schedulable(graph.flow, graph.inputs, f"schedule {schedule!r}")
    return schedule


def catchup_of(settings: AirflowOptions, graph: JobGraph) -> bool:
    """Whether the DAG runs its schedule's missed intervals (``--catchup``, or the flow's
    ``Schedule(catchup=True)``), with a warning when it would from the default start date."""
    catchup = bool(settings.catchup or (graph.schedule and graph.schedule.catchup))
    if catchup and settings.start_date == DEFAULT_START_DATE:
        warnings.warn(
            f"Flow {graph.flow} catches up from the default start date "
            f"{DEFAULT_START_DATE}: Airflow will start a run for every interval since; "
            "pass --start-date with the first date to process.",
            CompileWarning,
            stacklevel=4,
        )
    return catchup


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
        _ENV.filters.update(py=python_literal, comment=comment_text, k8s=kubernetes_text)
    return _ENV
