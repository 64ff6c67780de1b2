"""Where a layer runs, on every target: its secrets by name from the target's own store and in
its own tasks only, GPUs, node selectors and tolerations on Kubernetes, runner labels on
GitHub, queues on Airflow; a count-only plan in the default image with no secrets or
placement; and a warning wherever a target cannot apply a setting."""

from __future__ import annotations

import ast
import warnings
from typing import Any

import yaml
from argo.schema import assert_valid_workflow

from laminar import Container, Flow, ForEach, Layer, Parameter
from laminar.backends import generate
from laminar.errors import CompileWarning

TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
GPU = Container(
    image="ghcr.io/acme/trainer:2",
    gpu=1,
    node_selector={"pool": "gpu"},
    tolerations=[TOLERATION],
    runs_on=["self-hosted", "gpu"],
    queue="gpu",
    pool="gpu_boxes",
    secrets=["MODEL_TOKEN"],
)


def ranking() -> type[Flow]:
    flow: type[Flow] = type("Ranking", (Flow,), {})

    @flow.register(container=Container(secrets=["WAREHOUSE_TOKEN"]))
    class Pull(Layer):
        def __call__(self) -> None:
            self.shard(rows=[1, 2])

    @flow.register(
        container=GPU, foreach=ForEach(parameters=[Parameter(layer=Pull, attribute="rows")])
    )
    class Train(Layer):
        def __call__(self, pull: Pull) -> None: ...

    return flow


def compiled(target: str, **options: Any) -> tuple[str, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        text = generate(target, ranking().ir(), flow_ref="ranking.py", **options)
    return text, [str(w.message) for w in caught if w.category is CompileWarning]


def test_argo_secrets_gpus_and_placement() -> None:
    text, warned = compiled(
        "argo", image="ghcr.io/acme/flows:1", datastore="s3://b/p", env_secret="ranking-secrets"
    )
    doc = yaml.safe_load(text)
    assert_valid_workflow(doc)
    templates = {t["name"]: t for t in doc["spec"]["templates"]}
    pull_env = {e["name"]: e for e in templates["pull"]["container"]["env"]}
    assert pull_env["WAREHOUSE_TOKEN"] == {
        "name": "WAREHOUSE_TOKEN",
        "valueFrom": {"secretKeyRef": {"name": "ranking-secrets", "key": "WAREHOUSE_TOKEN"}},
    }
    train = templates["train"]
    names = {e["name"] for e in train["container"]["env"]}
    assert "MODEL_TOKEN" in names and "WAREHOUSE_TOKEN" not in names  # its own only
    assert train["container"]["resources"]["limits"] == {"nvidia.com/gpu": "1"}
    assert train["nodeSelector"] == {"pool": "gpu"}
    assert train["tolerations"] == [TOLERATION]
    assert train["container"]["image"] == "ghcr.io/acme/trainer:2"
    # Train's fan-out is planned in Pull's pod (fused): no plan pulls the trainer image.
    assert all(t["container"]["image"] != GPU.image for n, t in templates.items() if n != "train"
               and "container" in t)  # fmt: skip
    assert warned == [
        "Layer Train: argo cannot apply Container(runs_on=...); place pods with "
        "Container(node_selector=..., tolerations=...).",
        "Layer Train: argo cannot apply Container(queue=...); place pods with "
        "Container(node_selector=..., tolerations=...).",
        "Layer Train: argo cannot apply Container(pool=...); cap its running tasks with "
        "ForEach(concurrency=N) (pools are Airflow's).",
    ]


def test_airflow_plans_a_fan_out_in_its_upstreams_pod_with_nothing_of_the_layers() -> None:
    """Airflow plans Train in Pull's pod (issue 24): no planning task, and no task but
    Train's pulls the trainer image or gets its secrets and placement."""
    text, _ = compiled(
        "airflow", operator="kubernetes", image="ghcr.io/acme/flows:1", datastore="s3://b/p"
    )
    assert "Train_plan" not in text and "'Train-plan'" not in text
    assert ").expand(arguments=Pull.output.map(leg_arguments))" in text
    pull = text[text.index("Pull = ") : text.index("Train = ")]
    assert "image=literal('ghcr.io/acme/flows:1')" in pull and "do_xcom_push=True" in pull
    assert "'--then-plan=Train'" in text
    assert "MODEL_TOKEN" not in pull and "node_selector" not in pull and "gpu" not in pull


def test_airflow_kubernetes_secrets_gpus_and_placement() -> None:
    text, warned = compiled(
        "airflow", operator="kubernetes", image="ghcr.io/acme/flows:1", datastore="s3://b/p"
    )
    ast.parse(text)
    assert "ENV_SECRET = 'laminar-secrets'" in text
    assert (
        """secrets=[*SECRETS, Secret("env", 'WAREHOUSE_TOKEN', ENV_SECRET, 'WAREHOUSE_TOKEN')],"""
    ) in text
    assert "'nvidia.com/gpu': '1'" in text
    assert "node_selector={'pool': 'gpu'}," in text
    assert "k8s.V1Toleration(**{'effect': 'NoSchedule', 'key': 'nvidia.com/gpu', " in text
    assert "queue='gpu',\n        pool='gpu_boxes'," in text
    assert warned == [
        "Layer Train: airflow cannot apply Container(runs_on=...); send its tasks to "
        "suitable workers with Container(queue=...)."
    ]


def test_airflow_python_reads_secrets_from_variables_and_warns_of_what_it_drops() -> None:
    text, warned = compiled("airflow")
    ast.parse(text)
    assert (
        "LAYER_SECRETS = {\n    'Pull': ['WAREHOUSE_TOKEN'],\n    'Train': ['MODEL_TOKEN']," in text
    )
    assert "Variable.get(" in text
    assert "queue='gpu',\n        pool='gpu_boxes'," in text
    pull = text[text.index("Pull = ") : text.index("Train = ")]
    assert "Train_plan" not in text  # Pull's task plans Train (issue 24)
    assert "pool=" not in pull and "python_callable=plan_layer" in pull
    dropped = sorted(w.split("Container(")[1].split("=")[0] for w in warned)
    assert dropped == sorted(["image", "gpu", "node_selector", "tolerations", "runs_on"])
    assert all("Layer Train" in w for w in warned)
    assert any("--operator kubernetes" in w for w in warned)


def test_github_secrets_in_their_own_job_and_runner_labels() -> None:
    text, warned = compiled("github")
    jobs = yaml.safe_load(text)["jobs"]

    def shim_env(job: str) -> dict[str, str]:
        return next(s for s in jobs[job]["steps"] if s.get("id") == "shim")["env"]

    assert shim_env("Pull")["WAREHOUSE_TOKEN"] == "${{ secrets.WAREHOUSE_TOKEN }}"
    assert "WAREHOUSE_TOKEN" not in shim_env("Train")
    assert shim_env("Train")["MODEL_TOKEN"] == "${{ secrets.MODEL_TOKEN }}"
    assert jobs["Train"]["runs-on"] == ["self-hosted", "gpu"]
    assert jobs["Pull"]["runs-on"] == "ubuntu-latest"
    dropped = sorted(w.split("Container(")[1].split("=")[0] for w in warned)
    assert dropped == sorted(["gpu", "node_selector", "tolerations", "queue", "pool"])
    assert all(
        "Container(runs_on=[...labels])" in w or "ForEach(concurrency=N)" in w for w in warned
    )


def test_github_secret_option_works_without_a_remote_datastore() -> None:
    text, _ = compiled("github", secret=["API_KEY"])
    jobs = yaml.safe_load(text)["jobs"]
    env = next(s for s in jobs["Pull"]["steps"] if s.get("id") == "shim")["env"]
    assert env["API_KEY"] == "${{ secrets.API_KEY }}"


def test_docstrings_become_each_targets_descriptions() -> None:
    """The flow's docstring: Airflow's description and doc_md, Argo's description annotation,
    the GitHub workflow's heading comment; a layer's: its Airflow task's doc_md."""
    from conftest import ROOT

    from laminar.model.loader import load_flow

    ir = load_flow(str(ROOT / "tests" / "flows" / "placed.py")).ir()
    flow_doc = "Loads the warehouse every night and trains the ranking model."
    airflow = generate("airflow", ir, flow_ref="placed.py")
    assert f"description={flow_doc!r}," in airflow and f"doc_md={flow_doc!r}," in airflow
    assert "doc_md='Pulls the rows with the warehouse token.'," in airflow
    argo = yaml.safe_load(
        generate("argo", ir, flow_ref="placed.py", image="i:1", datastore="s3://b/p")
    )
    assert argo["metadata"]["annotations"] == {"workflows.argoproj.io/description": flow_doc}
    github = generate("github", ir, flow_ref="placed.py")
    assert f"\n#\n# {flow_doc}\n" in github


def test_a_description_cannot_become_an_argo_expression() -> None:
    flow: type[Flow] = type("Described", (Flow,), {"__doc__": "Uses {{workflow.name}} here."})

    @flow.register
    class A(Layer):
        def __call__(self) -> None: ...

    doc = yaml.safe_load(
        generate("argo", flow.ir(), flow_ref="d.py", image="i:1", datastore="s3://b/p")
    )
    text = doc["metadata"]["annotations"]["workflows.argoproj.io/description"]
    assert "{{" not in text and text == "Uses { {workflow.name} } here."


def test_an_inputs_description_is_shown_in_every_trigger_form() -> None:
    """``rows: Annotated[int, "..."]``: Airflow's Param, Argo's parameter, GitHub's form."""
    from typing import Annotated

    flow: type[Flow] = type(
        "Described",
        (Flow,),
        {"__annotations__": {"rows": Annotated[int, "rows to sample from the warehouse"]},
         "rows": 100},
    )  # fmt: skip

    @flow.register
    class A(Layer):
        def __call__(self) -> None: ...

    (spec,) = flow.ir().inputs
    assert (spec.type, spec.default, spec.description) == (
        "integer",
        100,
        "rows to sample from the warehouse",
    )
    airflow = generate("airflow", flow.ir(), flow_ref="d.py")
    assert "Param(100, type='integer', description='rows to sample from the warehouse')" in airflow
    argo = yaml.safe_load(
        generate("argo", flow.ir(), flow_ref="d.py", image="i:1", datastore="s3://b/p")
    )
    assert argo["spec"]["arguments"]["parameters"][0]["description"] == (
        "rows to sample from the warehouse"
    )
    assert_valid_workflow(argo)
    github = yaml.safe_load(generate("github", flow.ir(), flow_ref="d.py"))
    form = github[True]["workflow_dispatch"]["inputs"]["rows"]  # YAML 1.1 reads `on` as True
    assert form["description"] == "rows to sample from the warehouse"
