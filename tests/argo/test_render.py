"""The Argo backend's output: valid against the strict schema, named, escaped and wired right.

These tests render through the Python API and read the YAML back, so every assertion is about
what Argo (and Kubernetes) would receive. Running the workflows is in tests/argo/.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from argo.pods import kubernetes_expand
from argo.schema import validate_workflow
from argo.templating import tags
from laminar import Container, Flow, ForEach, Layer, Parameter, Retry
from laminar.backends import generate
from laminar.errors import CompileError, LaminarError
from laminar.model.loader import load_flow

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.py"))
KINDS = {
    "workflow": {},
    "workflow-template": {},
    "cron-workflow": {"argo_schedule": ["0 3 * * *"]},
}
TASK_NAME = re.compile(r"^[a-z][-a-z0-9]*$")


def render(flow: type[Flow], datastore: str | None = "s3://bucket/runs", **extra: Any) -> str:
    """Compile through the Python API; ``argo_X=...`` is the target option ``X``."""
    image = extra.pop("image", "ghcr.io/acme/flows:1.4")
    command = extra.pop("command", "laminar compile flow.py --target argo")
    options = {
        key.removeprefix("argo_"): tuple(value) if isinstance(value, list) else value
        for key, value in extra.items()
    }
    return generate(
        "argo",
        flow.ir(),
        flow_ref=f"flows/{flow.__name__}.py:{flow.__name__}",
        datastore=datastore,
        image=image,
        command=command,
        **options,
    )


def load(text: str) -> dict[str, Any]:
    doc = yaml.safe_load(text)
    assert validate_workflow(doc) == []
    return doc


def workflow_spec(doc: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = doc["spec"]
    return spec["workflowSpec"] if doc["kind"] == "CronWorkflow" else spec


def dag_tasks(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    spec = workflow_spec(doc)
    (main,) = [t for t in spec["templates"] if t["name"] == spec["entrypoint"]]
    return {task["name"]: task for task in main["dag"]["tasks"]}


def templates(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in workflow_spec(doc)["templates"] if "container" in t}


def env_of(template: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in template["container"]["env"]}


def make_flow(name: str, *layers: tuple[str, dict[str, Any]]) -> type[Flow]:
    """A flow whose layers run in a chain: each (name, register kwargs) depends on the last."""
    flow: type[Flow] = type(name, (Flow,), {})
    previous: type[Layer] | None = None
    for layer_name, kwargs in layers:
        if previous is None:

            def call(self: Layer) -> None:
                self.shard(items=[1, 2])

        else:
            upstream = previous

            def call(self: Layer, up: Any) -> None:
                self.items = list(up.items)

            call.__annotations__["up"] = upstream
        cls = type(layer_name, (Layer,), {"__call__": call})
        if kwargs.get("foreach") == "items":
            kwargs = {**kwargs, "foreach": ForEach([Parameter(layer=previous, attribute="items")])}  # type: ignore[arg-type]
        flow.register(**kwargs)(cls)
        previous = cls
    return flow


# -- every example, every kind ---------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_examples_pass_the_strict_schema(example: Path, kind: str) -> None:
    flow = load_flow(str(example))
    doc = load(render(flow, argo_kind=kind, argo_s3_secret="flows-s3", **KINDS[kind]))
    if kind == "workflow" and flow.ir().settings.schedule is not None:
        kind = "cron-workflow"  # a flow with a Schedule is a CronWorkflow by default
    assert (
        doc["kind"]
        == {
            "workflow": "Workflow",
            "workflow-template": "WorkflowTemplate",
            "cron-workflow": "CronWorkflow",
        }[kind]
    )
    names = set(dag_tasks(doc))
    assert names == set(templates(doc))
    assert all(TASK_NAME.match(n) and len(n) <= 63 for n in names)
    layers = {spec.name for spec in flow.ir().specs()}
    commands = [t["container"]["command"] for t in templates(doc).values()]
    assert {
        next(a[len("--layer=") :] for a in c if a.startswith("--layer=")) for c in commands
    } == layers


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_rendering_is_deterministic(example: Path) -> None:
    flow = load_flow(str(example))
    first = render(flow, argo_label=["b=2", "a=1"], argo_max_legs=8)
    assert render(flow, argo_label=["b=2", "a=1"], argo_max_legs=8) == first
    assert "/work/" not in first and str(Path.home()) not in first


def test_header_names_generator_and_flow() -> None:
    flow = make_flow("HeaderFlow", ("Start", {}))
    text = render(flow, command="laminar compile x.py --target argo\u2028kind: Injected")
    lines = text.splitlines()
    assert lines[0].startswith("# Generated by laminar ") and "flows/HeaderFlow.py" in lines[0]
    assert lines[1].startswith("# Regenerate with: laminar compile x.py")
    assert "Injected" not in yaml.safe_load(text)["kind"]
    assert load(text)["kind"] == "Workflow"


# -- DAG wiring --------------------------------------------------------------------------------


def test_a_fan_out_is_planned_in_its_only_upstreams_pod() -> None:
    """No planning pod when a ForEach layer's only upstream runs once: that upstream's pod
    commits, then plans the fan-out, and Argo reads the leg count from its output."""
    flow = make_flow("FanFlow", ("Start", {}), ("Fan", {"foreach": "items"}), ("Join", {}))
    doc = load(render(flow, argo_max_legs=16))
    tasks = dag_tasks(doc)
    assert list(tasks) == ["start", "fan", "join"]
    assert "dependencies" not in tasks["start"]
    assert tasks["fan"]["dependencies"] == ["start"]
    # `dependencies` (not `depends`): a fan-out of zero tasks is Skipped and Join still runs.
    assert tasks["join"]["dependencies"] == ["fan"]
    assert all("depends" not in t for t in tasks.values())
    count = "{{tasks.start.outputs.parameters.legs-fan}}"
    assert tasks["fan"]["withSequence"] == {"count": count}
    assert tasks["fan"]["arguments"]["parameters"] == [{"name": "leg", "value": "{{item}}"}]

    start = templates(doc)["start"]
    command = start["container"]["command"]
    assert command[:4] == ["laminar", "task", "flows/FanFlow.py:FanFlow", "--layer=Start"]
    assert command[command.index("--format") + 1] == "count"
    assert command[command.index("--max-legs") + 1] == "16"
    assert "--then-plan=Fan" in command
    (output,) = start["outputs"]["parameters"]
    assert output["name"] == "legs-fan"
    assert f"--plan-output={output['valueFrom']['path']}" in command

    fan = templates(doc)["fan"]
    assert fan["inputs"]["parameters"] == [{"name": "leg"}]
    assert env_of(fan)["LAMINAR_LEG"] == "{{inputs.parameters.leg}}"
    assert fan["container"]["command"] == [
        "laminar",
        "task",
        "flows/FanFlow.py:FanFlow",
        "--layer=Fan",
    ]
    for template in templates(doc).values():
        env = env_of(template)
        assert env["LAMINAR_EXECUTION"] == "{{workflow.name}}"
        assert env["LAMINAR_DATASTORE"] == "s3://bucket/runs"


def test_a_fan_out_after_a_fan_out_has_its_own_planning_pod() -> None:
    """Planning a fan-out over another fan-out's tasks needs all of them committed: that is
    a planning pod's job."""
    flow = make_flow(
        "ChainFlow", ("Start", {}), ("Fan", {"foreach": "items"}), ("Again", {"foreach": "items"})
    )
    doc = load(render(flow, argo_max_legs=16))
    tasks = dag_tasks(doc)
    assert list(tasks) == ["start", "fan", "again-plan", "again"]
    assert tasks["again-plan"]["dependencies"] == ["fan"]
    count = "{{tasks.again-plan.outputs.parameters.legs}}"
    assert tasks["again"]["withSequence"] == {"count": count}
    plan = templates(doc)["again-plan"]
    command = plan["container"]["command"]
    assert command[:4] == ["laminar", "plan", "flows/ChainFlow.py:ChainFlow", "--layer=Again"]
    (output,) = plan["outputs"]["parameters"]
    assert output["name"] == "legs"
    assert output["valueFrom"]["path"] == command[command.index("--output") + 1]


def test_one_pod_per_task_without_max_legs() -> None:
    flow = make_flow("FanFlow", ("Start", {}), ("Fan", {"foreach": "items"}))
    start = templates(load(render(flow)))["start"]
    assert "--max-legs" not in start["container"]["command"]


# -- names -------------------------------------------------------------------------------------


def test_layer_names_become_legal_unique_task_names() -> None:
    long_name = "Process" + "VeryLongLayerName" * 5  # 92 characters
    flow = make_flow(
        "NamingFlow",
        ("Process_Data2", {}),
        ("ProcessData2", {}),
        ("Main", {}),
        (long_name, {"foreach": "items"}),
        (long_name + "X", {}),
    )
    doc = load(render(flow))
    commands = {
        next(a for a in t["container"]["command"] if a.startswith("--layer="))[8:]: name
        for name, t in templates(doc).items()
        if t["container"]["command"][1] == "task"
    }
    assert commands["Process_Data2"] != commands["ProcessData2"]
    assert {commands["Process_Data2"], commands["ProcessData2"]} <= {
        n for n in commands.values() if n.startswith("process-data2-")
    }
    assert commands["Main"] != "main" and workflow_spec(doc)["entrypoint"] == "main"
    assert len(set(commands.values())) == len(commands)
    for name in dag_tasks(doc):
        assert TASK_NAME.match(name) and len(name) <= 63, name
    assert commands[long_name] != commands[long_name + "X"]
    assert render(flow) == render(flow)


def test_a_clean_name_is_kept_readable() -> None:
    flow = make_flow("ReadableFlow", ("Process_Data2", {}))
    doc = load(render(flow))
    assert list(dag_tasks(doc)) == ["process-data2"]
    assert doc["metadata"]["generateName"] == "readable-flow-"


@pytest.mark.parametrize(
    ("kind", "limit"), [("workflow", 58), ("cron-workflow", 52), ("workflow-template", 63)]
)
def test_resource_names_respect_argo_limits(kind: str, limit: int) -> None:
    flow = make_flow("Flow" + "X" * 80, ("Start", {}))
    doc = load(render(flow, argo_kind=kind, **KINDS[kind]))
    name = doc["metadata"].get("name") or doc["metadata"]["generateName"]
    assert len(name) <= limit
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?-?", name)


def test_explicit_name_and_metadata() -> None:
    flow = make_flow("MetaFlow", ("Start", {}))
    doc = load(
        render(
            flow,
            argo_kind="workflow-template",
            argo_name="nightly",
            argo_namespace="data",
            argo_service_account="runner",
            argo_parallelism=4,
            argo_image_pull_policy="IfNotPresent",
            argo_label=["team=ml", "example.com/tier=batch"],
        )
    )
    assert doc["metadata"]["name"] == "nightly"
    assert doc["metadata"]["namespace"] == "data"
    labels = doc["metadata"]["labels"]
    assert labels["team"] == "ml" and labels["example.com/tier"] == "batch"
    spec = doc["spec"]
    assert spec["workflowMetadata"]["labels"] == labels
    assert spec["serviceAccountName"] == "runner"
    assert spec["parallelism"] == 4
    assert templates(doc)["start"]["container"]["imagePullPolicy"] == "IfNotPresent"


def test_cron_workflow() -> None:
    flow = make_flow("CronFlow", ("Start", {}))
    doc = load(render(flow, argo_kind="cron-workflow", argo_schedule=["0 3 * * *", "0 15 * * 1"]))
    assert doc["kind"] == "CronWorkflow"
    assert doc["spec"]["schedules"] == ["0 3 * * *", "0 15 * * 1"]
    assert doc["metadata"]["name"] == "cron-flow"
    assert workflow_spec(doc)["entrypoint"] == "main"


# -- escaping ----------------------------------------------------------------------------------

NASTY = [
    'say "hi": it\'s fine',
    "line one\nline two: - [x]",
    "{{workflow.name}} and {{inputs.parameters.leg}} {{=1+1}} {{{triple}}}",
    "$(HOME) $$ $LAMINAR_LBRACE $(LAMINAR_LBRACE) {$(LAMINAR_LBRACE)",
    "# not a comment &anchor *alias !tag %",
]


@pytest.mark.parametrize("value", NASTY)
def test_user_strings_stay_data(value: str) -> None:
    """Env values, the datastore URL and the flow path arrive in the container unchanged."""
    flow = make_flow("EscapeFlow", ("Start", {"container": Container(env={"USER_VALUE": value})}))
    datastore = "s3://bucket/" + value.replace("\n", "")
    text = generate(
        "argo",
        flow.ir(),
        flow_ref=f"flows/{value}.py:EscapeFlow",
        datastore=datastore,
        image="python:3.11",
        s3_endpoint="http://minio:9000/" + value.replace("\n", ""),
    )
    doc = load(text)
    template = templates(doc)["start"]
    container = template["container"]
    # What Argo would template: only laminar's own references, no user text.
    argo_tags = {
        tag
        for s in [*container["command"], *env_of(template).values()]
        if isinstance(s, str)
        for tag in tags(s)
    }
    assert argo_tags <= {"workflow.name"}
    # What the process gets after Kubernetes' $(VAR) expansion, variables in order.
    env: dict[str, str] = {}
    for var in container["env"]:
        env[var["name"]] = kubernetes_expand(var["value"], env)
    assert env["USER_VALUE"] == value
    assert env["LAMINAR_DATASTORE"] == datastore
    assert env["AWS_ENDPOINT_URL"] == "http://minio:9000/" + value.replace("\n", "")
    command = [kubernetes_expand(part, env) for part in container["command"]]
    assert command[2] == f"flows/{value}.py:EscapeFlow"


def test_plain_values_are_not_rewritten() -> None:
    flow = make_flow("PlainFlow", ("Start", {"container": Container(env={"A": "b"})}))
    template = templates(load(render(flow)))["start"]
    assert "LAMINAR_LBRACE" not in env_of(template)
    assert env_of(template)["A"] == "b"


def test_credentials_come_from_the_secret() -> None:
    flow = make_flow("SecretFlow", ("Start", {}))
    text = render(flow, argo_s3_secret="flows-s3")
    env = env_of(templates(load(text))["start"])
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        assert env[key] == {"secretKeyRef": {"name": "flows-s3", "key": key}}
    without = env_of(templates(load(render(flow)))["start"])
    assert "AWS_ACCESS_KEY_ID" not in without


# -- retry, resources, images, volumes ----------------------------------------------------------


def test_retry_and_resources() -> None:
    flow = make_flow(
        "RetryFlow",
        (
            "Start",
            {
                "retry": Retry(attempts=4, delay=2, backoff=3),
                "container": Container(
                    image="acme/big:2", cpu=2, memory="4Gi", env={"Z": "1", "A": "2"}
                ),
            },
        ),
        ("Fast", {"retry": Retry(attempts=2, delay=0.25)}),
        ("Once", {"retry": Retry(attempts=1)}),
        ("Now", {"retry": Retry(attempts=3, delay=0)}),
    )
    found = templates(load(render(flow)))
    start = found["start"]
    assert start["retryStrategy"] == {
        "limit": "3",
        "retryPolicy": "Always",
        "backoff": {"duration": "2s", "factor": "3"},
    }
    assert start["container"]["image"] == "acme/big:2"
    assert start["container"]["resources"] == {
        "requests": {"cpu": "2", "memory": "4Gi"},
        "limits": {"cpu": "2", "memory": "4Gi"},
    }
    names = [e["name"] for e in start["container"]["env"]]
    assert names[:2] == ["A", "Z"]
    assert found["fast"]["retryStrategy"]["backoff"] == {"duration": "250ms", "factor": "1"}
    assert found["fast"]["container"]["image"] == "ghcr.io/acme/flows:1.4"
    assert "resources" not in found["fast"]["container"]
    assert "retryStrategy" not in found["once"]
    assert found["now"]["retryStrategy"] == {"limit": "2", "retryPolicy": "Always"}


def test_volume_claim_datastore() -> None:
    flow = make_flow("VolumeFlow", ("Start", {}))
    doc = load(render(flow, datastore=None, argo_volume_claim="flows-data"))
    assert workflow_spec(doc)["volumes"] == [
        {"name": "laminar-datastore", "persistentVolumeClaim": {"claimName": "flows-data"}}
    ]
    container = templates(doc)["start"]["container"]
    assert container["volumeMounts"] == [{"name": "laminar-datastore", "mountPath": "/mnt/laminar"}]
    assert env_of(templates(doc)["start"])["LAMINAR_DATASTORE"] == "file:///mnt/laminar"
    doc = load(
        render(flow, datastore="file:///data/x", argo_volume_claim="v", argo_mount_path="/data")
    )
    assert env_of(templates(doc)["start"])["LAMINAR_DATASTORE"] == "file:///data/x"


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"argo_kind": "cron-workflow"}, "needs a schedule"),
        ({"argo_schedule": ["0 3 * * *"]}, "only applies to --kind cron-workflow"),
        ({"argo_kind": "cron-workflow", "argo_schedule": ["daily"]}, "five cron fields"),
        ({"argo_kind": "job"}, "--kind 'job' must be one of"),
        ({"argo_name": "Bad_Name"}, "--name 'Bad_Name'"),
        (
            {"argo_kind": "cron-workflow", "argo_schedule": ["0 3 * * *"], "argo_name": "x" * 53},
            "at most 52 characters",
        ),
        ({"argo_namespace": "a{{b}}"}, "--namespace 'a{{b}}' is not a Kubernetes name"),
        ({"argo_service_account": "Runner"}, "--service-account 'Runner'"),
        ({"argo_label": ["novalue"]}, "--label 'novalue'"),
        ({"argo_label": ["a=b c"]}, "--label 'a=b c'"),
        ({"argo_parallelism": 0}, "--parallelism 0 must be"),
        ({"argo_max_legs": -1}, "--max-legs -1 must be"),
        ({"argo_image_pull_policy": "Sometimes"}, "--image-pull-policy 'Sometimes'"),
        ({"argo_s3_secret": "has space"}, "--s3-secret 'has space'"),
        # A trailing newline passes Python's `$`; Kubernetes would reject the name later.
        ({"argo_name": "nightly\n"}, "--name 'nightly\\n'"),
        ({"argo_namespace": "data\n"}, "--namespace 'data\\n'"),
        ({"argo_service_account": "runner\n"}, "--service-account 'runner\\n'"),
        ({"argo_s3_secret": "creds\n"}, "--s3-secret 'creds\\n'"),
        ({"argo_label": ["team=ml\n"]}, "--label 'team=ml\\n'"),
        ({"argo_s3_endpoint": "http://minio\n:9000"}, "--s3-endpoint"),
        ({"argo_volume_claim": "v"}, "must be a path under it"),
        ({"image": None}, "Layer Start has no image"),
        ({"image": "bad {{image}}"}, "is not an image reference"),
    ],
)
def test_bad_options_fail_with_a_clear_message(extra: dict[str, Any], message: str) -> None:
    flow = make_flow("BadFlow", ("Start", {}))
    with pytest.raises(CompileError) as error:
        render(flow, **extra)
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("datastore", "message"),
    [
        (None, "need a datastore"),
        ("./store", "is a local path"),
        ("file:///tmp/x", "is a local path"),
    ],
)
def test_datastore_must_be_reachable_from_pods(datastore: str | None, message: str) -> None:
    flow = make_flow("StoreFlow", ("Start", {}))
    with pytest.raises(LaminarError, match=message):
        render(flow, datastore=datastore)


def test_s3_options_need_an_s3_datastore() -> None:
    flow = make_flow("StoreFlow", ("Start", {}))
    with pytest.raises(CompileError, match="need an s3:// --datastore"):
        render(flow, datastore="gs://bucket/x", argo_s3_secret="creds")


def test_unexpressible_retry_and_env_clash_are_errors() -> None:
    flow = make_flow("RetryFlow", ("Start", {"retry": Retry(attempts=2, backoff=1.5)}))
    with pytest.raises(CompileError, match=r"Layer Start has Retry\(backoff=1.5\)"):
        render(flow)
    flow = make_flow("EnvFlow", ("Start", {"container": Container(env={"LAMINAR_LEG": "1"})}))
    with pytest.raises(CompileError, match="Layer Start sets LAMINAR_LEG"):
        render(flow)


@pytest.mark.parametrize("target", ["argo", "airflow", "github"])
def test_credentials_in_urls_are_refused_from_python_too(target: str) -> None:
    flow = make_flow("CredFlow", ("Start", {}))
    with pytest.raises(CompileError, match="holds credentials") as error:
        generate(
            target, flow.ir(), flow_ref="f.py", image="i:1",
            datastore="s3://AKIAKEY:s3cr3t@bucket/p",
        )  # fmt: skip
    assert "s3cr3t" not in str(error.value)
    if target == "argo":
        with pytest.raises(CompileError, match="holds credentials") as endpoint:
            generate(
                "argo", flow.ir(), flow_ref="f.py", image="i:1", datastore="s3://b/p",
                s3_endpoint="http://user:pw0rd@minio:9000",
            )  # fmt: skip
        assert "pw0rd" not in str(endpoint.value)
