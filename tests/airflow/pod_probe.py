"""Runs inside the Airflow venv (not the test's): the pods a generated Kubernetes DAG's mapped
task would create, built by the real KubernetesPodOperator without a cluster (dry run).

Usage: python pod_probe.py DAG_FILE TASK_ID PLAN_XCOM_JSON TRIES

Loads the DAG file as Airflow's parser does, maps the plan's XCom with the DAG's own function
the way ``expand_kwargs`` does, and prints as JSON, per map index, the resources of the pod
each try 1..TRIES asks for: ``{"operator": class name, "pods": [[resources per try], ...]}``.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import types
from typing import Any


def main(path: str, task_id: str, xcom: str, tries: int) -> dict[str, Any]:
    spec = importlib.util.spec_from_file_location("generated_dag", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    mapped = module.dag.get_task(task_id)
    operator_class = mapped.operator_class
    partial = dict(mapped.partial_kwargs)
    mapper = mapped.expand_input.value.callables[0]  # XComArg.map(function)
    pods = []
    for index, leg in enumerate(json.loads(xcom)):
        kwargs = {**partial, **mapper(leg), "task_id": f"{task_id}-{index}"}
        operator = operator_class(**kwargs)
        per_try = []
        for number in range(1, tries + 1):
            ti = types.SimpleNamespace(
                try_number=number, dag_id=module.dag.dag_id, task_id=task_id, run_id="r",
                map_index=index,
            )  # fmt: skip
            pod = operator.build_pod_request_obj(
                {"ti": ti, "dag": module.dag, "run_id": "r"}, dry_run=True
            )
            resources = pod.spec.containers[0].resources
            per_try.append({"requests": resources.requests, "limits": resources.limits})
        pods.append(per_try)
    return {"operator": operator_class.__name__, "pods": pods}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))))
