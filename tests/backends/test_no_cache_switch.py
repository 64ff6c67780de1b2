"""The per-run switch that ignores the cache (issue 23): on a flow with a cached layer, each
target renders it (Airflow: the DAG param ``laminar_no_cache``; Argo: a workflow parameter;
GitHub: a ``workflow_dispatch`` input) and hands it to every task as ``LAMINAR_NO_CACHE``; a
flow without one gets none. It is no flow input: no input takes its name, and the shim drops
it from ``LAMINAR_INPUTS``. (That a run with it serves nothing: the engine tests.)"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from laminar import Container, Flow, Layer, Parameters
from laminar.backends import generate
from laminar.errors import CompileError, ConfigurationError, FlowDefinitionError
from laminar.model.parameters import resolve_inputs
from laminar.runtime.inputs import from_environment

SWITCH = "laminar_no_cache"


class Cached(Flow):
    rows: int = 3


@Cached.register
class Load(Layer):
    def __call__(self, parameters: Parameters) -> None:
        self.rows = list(range(parameters.rows))


@Cached.register(cache=True)
class Fit(Layer):
    def __call__(self, load: Load) -> None:
        self.total = sum(load.rows)


class Plain(Flow): ...


@Plain.register
class Only(Layer):
    def __call__(self) -> None:
        self.value = 1


def workflow(text: str) -> dict[str, Any]:
    document: dict[Any, Any] = yaml.safe_load(text)
    document["on"] = document.pop(True)  # PyYAML reads the key `on` as True (YAML 1.1)
    return document


def render(target: str, flow: type[Flow], **extra: Any) -> str:
    options = {"image": "i:1", "datastore": "s3://b/p"} if target == "argo" else {}
    return generate(target, flow.ir(), flow_ref="f.py", **{**options, **extra})


def test_argo_takes_a_workflow_parameter_every_pod_reads() -> None:
    doc = yaml.safe_load(render("argo", Cached))
    parameters = {p["name"]: p for p in doc["spec"]["arguments"]["parameters"]}
    assert list(parameters) == ["rows", SWITCH]
    assert parameters[SWITCH]["value"] == "false"
    assert parameters[SWITCH]["enum"] == ["false", "true"]
    pods = [t for t in doc["spec"]["templates"] if "container" in t]
    assert len(pods) == 2
    for pod in pods:
        env = {v["name"]: v.get("value") for v in pod["container"]["env"]}
        assert env["LAMINAR_NO_CACHE"] == "{{workflow.parameters.laminar_no_cache}}"
    assert SWITCH not in render("argo", Plain) and "LAMINAR_NO_CACHE" not in render("argo", Plain)


@pytest.mark.parametrize("operator", ["python", "kubernetes"])
def test_airflow_takes_a_dag_param_every_task_passes_on(operator: str) -> None:
    extra = {"operator": operator}
    if operator == "kubernetes":
        extra |= {"image": "i:1", "datastore": "s3://b/p"}
    text = render("airflow", Cached, **extra)
    param = "'laminar_no_cache': Param(False, type='boolean', description="
    assert param in text
    if operator == "python":
        assert "if params.get('laminar_no_cache'):" in text
        assert 'env["LAMINAR_NO_CACHE"] = "1"' in text
    else:
        assert 'ENV_VARS["LAMINAR_NO_CACHE"] = "{{ params.laminar_no_cache | lower }}"' in text
    compile(text, "dag.py", "exec")  # the file is Python
    plain = render("airflow", Plain, **extra)
    assert SWITCH not in plain and "Param" not in plain


def test_github_takes_a_dispatch_input_but_not_on_other_events() -> None:
    doc = workflow(render("github", Cached))
    inputs = doc["on"]["workflow_dispatch"]["inputs"]
    assert list(inputs) == ["rows", SWITCH]
    assert inputs[SWITCH] == {
        "description": "Run every task, serving none from the cache",
        "required": False,
        "type": "boolean",
        "default": False,
    }
    # A schedule's run has no inputs: the expression is empty, and the cache serves.
    assert doc["env"]["LAMINAR_NO_CACHE"] == "${{ inputs.laminar_no_cache }}"
    assert doc["env"]["LAMINAR_INPUTS"] == "${{ toJSON(inputs) }}"
    pushed = render("github", Cached, on=("push",))
    assert SWITCH not in pushed and "LAMINAR_NO_CACHE" not in pushed
    plain = workflow(render("github", Plain))
    assert plain["on"]["workflow_dispatch"] is None and "LAMINAR_NO_CACHE" not in plain["env"]


def test_github_refuses_an_input_named_like_the_switch_in_another_case() -> None:
    class Alike(Flow):
        Laminar_No_Cache: int = 1

    Alike.register(cache=True)(type("Step", (Layer,), {"__call__": lambda self: None}))
    with pytest.raises(CompileError, match="'Laminar_No_Cache' and the switch that ignores"):
        render("github", Alike)


def test_no_input_takes_the_switchs_name() -> None:
    class Taken(Flow):
        laminar_no_cache: bool = False

    Taken.register(type("Step", (Layer,), {"__call__": lambda self: None}))
    with pytest.raises(FlowDefinitionError, match="switch that ignores the cache"):
        Taken.ir()
    with pytest.raises(ConfigurationError, match="cannot be an input name"):
        resolve_inputs((), {SWITCH: "true"})  # laminar run -p laminar_no_cache=true


def test_the_shim_drops_the_switch_from_the_inputs(monkeypatch: pytest.MonkeyPatch) -> None:
    given = {"rows": 4, SWITCH: True}  # Airflow's params, GitHub's toJSON(inputs)
    monkeypatch.setenv("LAMINAR_INPUTS", json.dumps(given))
    assert from_environment() == {"rows": 4}


@pytest.mark.parametrize("target", ["argo", "airflow", "github"])
def test_a_layer_cannot_set_the_switchs_variable(target: str) -> None:
    class Forced(Flow): ...

    @Forced.register(cache=True, container=Container(env={"LAMINAR_NO_CACHE": "1"}))
    class Step(Layer):
        def __call__(self) -> None:
            pass

    with pytest.raises(CompileError, match="LAMINAR_NO_CACHE"):
        render(target, Forced)
