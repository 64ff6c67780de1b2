"""Runs inside the Airflow venv (not the test's): load generated DAGs in a DagBag, run some.

Usage: python driver.py DAGS_FOLDER OUT.json [DAG_ID ...]

Writes ``{"import_errors": {...}, "dags": {dag_id: [task ids]}, "runs": {dag_id: {...}}}``
where each run records the DagRun's state and run id and every task instance's state and
try number. One process runs every DAG, so Airflow's start-up cost is paid once.
The caller sets AIRFLOW_HOME (with a migrated airflow.db) and AIRFLOW__CORE__DAGS_FOLDER, and
LAMINAR_TEST_CONF to a JSON object {dag_id: conf} for runs triggered with a conf.
"""

from __future__ import annotations

import datetime
import json
import os
import sys
import types
from typing import Any


def main(folder: str, out: str, dag_ids: list[str]) -> None:
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 2
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]

    bag = DagBag(dag_folder=folder)  # examples: off through AIRFLOW__CORE__LOAD_EXAMPLES
    result: dict[str, Any] = {
        "import_errors": {str(k): str(v) for k, v in bag.import_errors.items()},
        "dags": {d: sorted(t.task_id for t in bag.dags[d].tasks) for d in sorted(bag.dags)},
        # A generated DAG must not import laminar (nor, through it, the user's flow).
        "imported_by_parsing": sorted(m for m in sys.modules if m.split(".")[0] == "laminar"),
        "rendered": {d: rendered(bag.dags[d]) for d in sorted(bag.dags)},
        "runs": {},
    }
    for pool in os.environ.get("LAMINAR_TEST_POOLS", "").split():  # as a deployment sets them
        from airflow.models.pool import Pool

        Pool.create_or_update_pool(pool, 1, "laminar's tests", include_deferred=False)
    confs = json.loads(os.environ.get("LAMINAR_TEST_CONF", "{}"))
    dates = json.loads(os.environ.get("LAMINAR_TEST_LOGICAL_DATES", "{}"))
    for dag_id in dag_ids:
        dag = bag.dags[dag_id]
        given: dict[str, Any] = {}
        if dag_id in confs:
            given["run_conf"] = confs[dag_id]
        if dag_id in dates:  # a run for a past day, as a backfill or a catchup makes one
            given["logical_date"] = datetime.datetime.fromisoformat(dates[dag_id])
        run = dag.test(**given)
        instances = [
            {
                "task_id": ti.task_id,
                "map_index": ti.map_index,
                "state": str(ti.state.value if hasattr(ti.state, "value") else ti.state),
                "try_number": ti.try_number,
                "pool": ti.pool,
            }
            for ti in run.get_task_instances()
        ]
        state = run.state.value if hasattr(run.state, "value") else run.state
        result["runs"][dag_id] = {
            "state": str(state),
            "run_id": run.run_id,
            "tasks": sorted(instances, key=lambda t: (t["task_id"], t["map_index"])),
        }
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=1)


# What Airflow's context holds for these templates when a task instance renders them.
RENDER_CONTEXT = {
    "run_id": "manual__rendered",
    "ti": types.SimpleNamespace(try_number=2),
    "logical_date": datetime.datetime(2026, 11, 25, 3, tzinfo=datetime.timezone.utc),
    "dag_run": types.SimpleNamespace(run_after=None),
    "params": {},
}


def rendered(dag: Any) -> dict[str, Any]:
    """The templated fields of a DAG's unmapped KubernetesPodOperators, as Airflow renders them."""
    out: dict[str, Any] = {}
    for task in dag.tasks:
        if type(task).__name__ != "KubernetesPodOperator":
            continue
        task.render_template_fields(RENDER_CONTEXT)
        env = task.env_vars
        out[task.task_id] = {
            "image": task.image,
            "cmds": list(task.cmds),
            "arguments": list(task.arguments),
            "env": {e.name: e.value for e in env} if isinstance(env, list) else dict(env),
        }
    return out


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
