"""The strict validator accepts well-formed resources and names what is wrong with others."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from .schema import validate_workflow

VALID = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: demo-
  labels: {app.kubernetes.io/name: demo}
spec:
  entrypoint: main
  parallelism: 4
  arguments: {parameters: [{name: datastore, value: "s3://bucket/x"}]}
  templates:
  - name: main
    dag:
      tasks:
      - name: plan
        template: plan
      - name: work
        template: work
        dependencies: [plan]
        withSequence: {count: "{{tasks.plan.outputs.parameters.legs}}"}
        arguments:
          parameters:
          - {name: leg, value: "{{item}}"}
          - {name: last, value: "{{=asInt(tasks.plan.outputs.parameters.legs) - 1}}"}
      - name: done
        template: plan
        depends: "work.Succeeded || work.Skipped"
  - name: plan
    outputs: {parameters: [{name: legs, valueFrom: {path: /tmp/legs}}]}
    container:
      image: ghcr.io/acme/flows:1.4
      command: [laminar, plan, flow.py]
      env: [{name: LAMINAR_EXECUTION, value: "{{workflow.uid}}"}]
  - name: work
    inputs: {parameters: [{name: leg}, {name: last, default: "0"}]}
    retryStrategy: {limit: 3, retryPolicy: OnFailure, backoff: {duration: "10s", factor: 2}}
    container:
      image: ghcr.io/acme/flows:1.4
      command: [laminar, task, flow.py, --leg, "{{inputs.parameters.leg}}"]
      resources: {requests: {cpu: 1, memory: 512Mi}, limits: {cpu: "1500m"}}
      env:
      - {name: DATASTORE, value: "{{workflow.parameters.datastore}}"}
      - name: AWS_ACCESS_KEY_ID
        valueFrom: {secretKeyRef: {name: s3-credentials, key: access-key}}
"""


def doc() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(VALID)
    return copy.deepcopy(loaded)


def errors_of(document: dict[str, Any]) -> str:
    return "\n".join(validate_workflow(document))


def test_a_well_formed_workflow_has_no_errors() -> None:
    assert validate_workflow(VALID) == []


def test_workflow_template_and_cron_workflow_use_their_own_definitions() -> None:
    template = doc() | {"kind": "WorkflowTemplate", "metadata": {"name": "demo"}}
    assert validate_workflow(template) == []
    cron: dict[str, Any] = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "CronWorkflow",
        "metadata": {"name": "demo"},
        "spec": {"schedules": ["0 * * * *"], "workflowSpec": doc()["spec"]},
    }
    assert validate_workflow(cron) == []
    cron["spec"]["schedule"] = "0 * * * *"
    assert "unknown key(s) 'schedule'" in errors_of(cron)
    cron["spec"].pop("schedule")
    cron["metadata"]["name"] = "c" * 53
    assert "at most 52" in errors_of(cron)


@pytest.mark.parametrize(
    ("where", "key"),
    [
        (lambda d: d["spec"]["templates"][2]["container"], "comand"),
        (lambda d: d["spec"]["templates"][0]["dag"]["tasks"][1], "withParams"),
        (lambda d: d["spec"]["templates"][2]["retryStrategy"], "limits"),
        (lambda d: d["metadata"], "label"),
        (lambda d: d["spec"], "entryPoint"),
    ],
)
def test_unknown_keys_are_rejected_anywhere(where: Any, key: str) -> None:
    document = doc()
    where(document)[key] = "x"
    assert f"unknown key(s) '{key}'" in errors_of(document)


def test_a_missing_template_is_reported() -> None:
    document = doc()
    document["spec"]["templates"][0]["dag"]["tasks"][2]["template"] = "nowhere"
    assert "dag.tasks[2](done).template: no template named 'nowhere'" in errors_of(document)


def test_a_dependency_on_a_task_of_another_dag_is_reported() -> None:
    document = doc()
    document["spec"]["templates"][0]["dag"]["tasks"][1]["dependencies"] = ["plann"]
    text = errors_of(document)
    assert "depends on 'plann', which is not a task of this DAG" in text
    # ... and `work` then reads plan's output without depending on it:
    assert "task 'plan' is not a dependency" in text


def test_a_reference_to_a_missing_task_is_reported() -> None:
    document = doc()
    task = document["spec"]["templates"][0]["dag"]["tasks"][2]
    task["arguments"] = {"parameters": [{"name": "x", "value": "{{tasks.nope.outputs.result}}"}]}
    document["spec"]["templates"][1]["inputs"] = {"parameters": [{"name": "x", "default": ""}]}
    assert "there is no task 'nope' in this DAG" in errors_of(document)


def test_a_bad_depends_expression_is_reported() -> None:
    document = doc()
    document["spec"]["templates"][0]["dag"]["tasks"][2]["depends"] = "work.Finished"
    assert "unknown task result 'Finished'" in errors_of(document)


def test_an_undeclared_input_parameter_is_reported() -> None:
    document = doc()
    document["spec"]["templates"][2]["container"]["args"] = ["{{inputs.parameters.nope}}"]
    assert (
        "spec.templates[2](work).container.args[0]: {{inputs.parameters.nope}} does not resolve"
        in errors_of(document)
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{{item}}", "`item` exists only in tasks with withParam"),
        ("{{workflow.parameters.other}}", "not declared in spec.arguments"),
        ("{{tasks.plan.outputs.parameters.legs}}", "only by the tasks of a DAG template"),
        ("{{=inputs.parameters.missing + 1}}", "reads 'inputs.parameters.missing'"),
    ],
)
def test_unresolved_references_are_reported(value: str, message: str) -> None:
    document = doc()
    document["spec"]["templates"][1]["container"]["command"].append(value)
    assert message in errors_of(document)


def test_names_must_follow_argo_rules() -> None:
    document = doc()
    tasks = document["spec"]["templates"][0]["dag"]["tasks"]
    tasks[2]["name"] = "9done"
    document["spec"]["templates"][2]["inputs"]["parameters"][1]["name"] = "la.st"
    document["metadata"]["labels"] = {"app": "x" * 64}
    text = errors_of(document)
    assert "must not start with a digit" in text
    assert "'la.st' must match" in text
    assert "invalid label value" in text


def test_arguments_must_match_inputs_and_cycles_are_found() -> None:
    document = doc()
    tasks = document["spec"]["templates"][0]["dag"]["tasks"]
    tasks[1]["arguments"]["parameters"] = [{"name": "lg", "value": "1"}]
    tasks[0]["dependencies"] = ["done"]
    text = errors_of(document)
    assert "input parameter 'leg' of template 'work' is not supplied" in text
    assert "'lg' is not an input parameter of 'work'" in text
    assert "dependency cycle" in text


def test_numbers_are_accepted_where_kubernetes_takes_int_or_string() -> None:
    document = doc()
    document["spec"]["templates"][2]["retryStrategy"]["limit"] = "3"
    document["spec"]["templates"][2]["container"]["resources"]["limits"]["memory"] = 1.5
    assert validate_workflow(document) == []
    document["spec"]["templates"][2]["retryStrategy"]["limit"] = [3]
    assert "retryStrategy.limit" in errors_of(document)
