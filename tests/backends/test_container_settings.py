"""``Container(cpu=4, memory=2000, workdir=..., command=...)`` and ``Retry(jitter=...)``, in the
original library's spelling, on every target."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
import yaml

from laminar import Container, Flow, ForEach, Layer, Parameter, Retry
from laminar.backends import generate
from laminar.configurations import hooks
from laminar.errors import ConfigurationError


def make(container: Container) -> type[Flow]:
    flow: type[Flow] = type("Configured", (Flow,), {})

    @flow.register(container=container)
    class Task(Layer):
        def __call__(self) -> None:
            self.seen = (self.configuration.container.cpu, self.configuration.container.memory)

    return flow


SETTINGS = Container(
    image="ghcr.io/acme/app:1", cpu=4, memory=2000, workdir="/app", command="python -m laminar"
)


def test_the_layer_sees_its_configuration_as_written(tmp_path: Path) -> None:
    flow = make(SETTINGS)
    execution = flow()(datastore=str(tmp_path))
    assert flow.results(execution, str(tmp_path))["Task"].seen == (4, 2000)


def test_argo_gets_quantities_working_dir_and_command() -> None:
    doc = yaml.safe_load(
        generate("argo", make(SETTINGS).ir(), flow_ref="f.py", datastore="s3://b/p")
    )
    (template,) = [t for t in doc["spec"]["templates"] if t["name"] == "task"]
    container = template["container"]
    assert container["resources"]["limits"] == {"cpu": "4", "memory": "2000M"}
    assert container["workingDir"] == "/app"
    assert container["command"][:4] == ["python", "-m", "laminar", "task"]


def test_github_container_jobs_get_the_workdir() -> None:
    doc = yaml.safe_load(generate("github", make(SETTINGS).ir(), flow_ref="f.py"))
    job = doc["jobs"]["Task"]
    assert job["container"] == {"image": "ghcr.io/acme/app:1", "options": "--workdir /app"}
    (shim,) = [s for s in job["steps"] if s.get("id") == "shim"]
    assert shim["run"].startswith("python -m laminar task f.py")


def kpo_commands(text: str) -> dict[str, Any]:
    found = {}
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "KubernetesPodOperator":
            keywords = {k.arg: k.value for k in node.keywords}
            task_id = ast.literal_eval(keywords["task_id"])
            found[task_id] = ast.literal_eval(keywords["cmds"].args[0])  # literal([...])
    return found


def test_airflow_pods_change_to_the_workdir_with_the_path_as_data() -> None:
    text = generate(
        "airflow", make(SETTINGS).ir(), flow_ref="f.py", datastore="s3://b/p",
        operator="kubernetes",
    )  # fmt: skip
    # What the pod runs: Kubernetes turns each doubled $ back into one.
    assert [word.replace("$$", "$") for word in kpo_commands(text)["Task"]] == [
        "sh", "-c", 'cd "$0" && exec "$@"', "/app", "python", "-m", "laminar", "task", "f.py",
        "--layer=Task",
    ]  # fmt: skip
    assert "requests={'cpu': '4', 'memory': '2000M'}" in text


def decided() -> type[Flow]:
    """Gate's entry hook runs in its plan; Fan's plan only counts its tasks."""
    flow: type[Flow] = type("Decided", (Flow,), {})
    sized = Container(image="ghcr.io/acme/app:1", cpu=2, memory=3000)

    @flow.register
    class Items(Layer):
        def __call__(self) -> None:
            self.shard(n=[1, 2])

    @flow.register(container=sized)
    class Gate(Layer):
        def __call__(self, items: Items) -> None: ...

        @hooks.entry
        def worth_it(self, items: Items) -> bool:
            return len(items.n) > 1

    @flow.register(
        container=sized, foreach=ForEach(parameters=[Parameter(layer=Items, attribute="n")])
    )
    class Fan(Layer):
        def __call__(self, items: Items, gate: Gate) -> None: ...

    return flow


def test_a_plan_that_runs_entry_hooks_gets_the_layers_resources() -> None:
    doc = yaml.safe_load(
        generate("argo", decided().ir(), flow_ref="f.py", datastore="s3://b/p", image="i:1")
    )
    resources = {
        t["name"]: t["container"].get("resources")
        for t in doc["spec"]["templates"]
        if "container" in t
    }
    sized = {"cpu": "2", "memory": "3000M"}
    assert resources["gate-plan"] == {"requests": sized, "limits": sized}
    assert resources["gate"] == resources["fan"] == {"requests": sized, "limits": sized}
    assert resources["fan-plan"] is None  # it only counts tasks
    text = generate(
        "airflow", decided().ir(), flow_ref="f.py", datastore="s3://b/p", operator="kubernetes",
        image="i:1",
    )  # fmt: skip
    pods = {
        ast.literal_eval(k["task_id"]): "container_resources" in k
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.Call)
        and ast.unparse(node.func) in ("KubernetesPodOperator", "KubernetesPodOperator.partial")
        for k in [{kw.arg: kw.value for kw in node.keywords}]
    }
    # Airflow: Gate's own pod runs its entry hook (no planning task), with the layer's resources.
    assert pods == {"Items": False, "Gate": True, "Fan-plan": False, "Fan": True}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"memory": 0}, "must be megabytes"),
        ({"memory": True}, "must be megabytes"),
        ({"workdir": "app"}, "must be an absolute path"),
        ({"command": ""}, "must be the command that runs laminar"),
        ({"command": "python 'unclosed"}, "must be the command that runs laminar"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Container(**kwargs)


def test_retry_jitter_adds_at_most_jitter_seconds() -> None:
    retry = Retry(attempts=3, delay=2, backoff=2, jitter=0.5)
    waits = [retry.wait_before(2) for _ in range(50)]
    assert all(4.0 <= wait <= 4.5 for wait in waits)
    assert len(set(waits)) > 1
    with pytest.raises(ConfigurationError, match="jitter"):
        Retry(jitter=-1)


def test_kubernetes_never_expands_a_value_in_an_airflow_pod() -> None:
    """Kubernetes expands ``$(VAR)`` and reduces ``$$`` in a pod's command and env: every
    ``$`` of laminar's values is doubled (as on Argo), so the pod sees the text as given."""
    flow = make(Container(image="i:1", env={"TOKEN_HINT": "$(HOME) and $$ and $X"}))
    text = generate(
        "airflow", flow.ir(), flow_ref="$(HOME)/f.py", datastore="s3://b/$(USER)",
        operator="kubernetes",
    )  # fmt: skip
    assert "'TOKEN_HINT': literal('$$(HOME) and $$$$ and $$X')" in text
    assert "\"LAMINAR_DATASTORE\": literal('s3://b/$$(USER)')" in text
    assert kpo_commands(text)["Task"][2] == "$$(HOME)/f.py"
    from conftest import ROOT

    from laminar.model.loader import load_flow

    inputs = load_flow(str(ROOT / "tests" / "flows" / "inputs.py")).ir()
    text = generate("airflow", inputs, flow_ref="i.py", datastore="s3://b", operator="kubernetes",
                    image="i:1")  # fmt: skip
    assert "params | tojson | replace('$', '$$')" in text  # the inputs, as given
