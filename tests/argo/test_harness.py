"""The harness runs hand-written Workflows as Argo would (each is also checked by the validator)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from .harness import ArgoHarness
from .nodes import WorkflowRun
from .pods import Attempt
from .schema import assert_valid_workflow

HEAD = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: harness-
spec:
  entrypoint: main
"""


def sh(script: str, name: str = "sh", inputs: str = "", outputs: str = "", extra: str = "") -> str:
    """A container template running `sh -c script` (YAML text, indented for `templates:`)."""
    text = f"""
- name: {name}
  container:
    image: alpine:3
    command: [sh, -c]
    args: [{yaml.safe_dump(script, default_style='"').strip()}]
{extra}"""
    if inputs:
        text += f"  inputs:\n    parameters:\n{inputs}"
    if outputs:
        text += f"  outputs:\n    parameters:\n{outputs}"
    return text


def workflow(body: str, *templates: str) -> dict[str, Any]:
    text = HEAD + "  templates:\n  - name: main\n    dag:\n      tasks:\n" + _indent(body, 6)
    for template in templates:
        text += _indent(template, 2)
    doc: dict[str, Any] = yaml.safe_load(text)
    return doc


def _indent(text: str, spaces: int) -> str:
    lines = [line for line in text.strip("\n").splitlines()]
    return "".join(" " * spaces + line + "\n" for line in lines)


def run(doc: dict[str, Any], tmp_path: Path, **options: Any) -> WorkflowRun:
    assert_valid_workflow(doc)
    parameters = options.pop("parameters", None)
    options.setdefault("path_map", {"/data": str(tmp_path / "data")})
    (tmp_path / "data").mkdir(parents=True, exist_ok=True)
    return ArgoHarness(tmp_path / "run", **options).run(doc, parameters=parameters)


LOG = sh("echo {{inputs.parameters.n}} >> /data/log", "log", inputs="    - name: n\n")


def test_dag_runs_tasks_after_their_dependencies(tmp_path: Path) -> None:
    body = """
- {name: d, template: log, dependencies: [b, c], arguments: {parameters: [{name: n, value: d}]}}
- {name: b, template: log, dependencies: [a], arguments: {parameters: [{name: n, value: b}]}}
- {name: c, template: log, depends: "a && b", arguments: {parameters: [{name: n, value: c}]}}
- {name: a, template: log, arguments: {parameters: [{name: n, value: a}]}}
"""
    result = run(workflow(body, LOG), tmp_path)
    assert result.phase == "Succeeded", result.describe()
    assert (tmp_path / "data" / "log").read_text().split() == ["a", "b", "c", "d"]
    assert {n: result[n].phase for n in "abcd"} == dict.fromkeys("abcd", "Succeeded")


PLAN = sh(
    "mkdir -p /tmp/out && printf '%s\\n' '{{inputs.parameters.items}}' > /tmp/out/items.json"
    " && echo {{inputs.parameters.count}} > /tmp/out/count",
    "plan",
    inputs="    - name: items\n    - name: count\n      default: '0'\n",
    outputs="    - name: items\n      valueFrom: {path: /tmp/out/items.json}\n"
    "    - name: count\n      valueFrom: {path: /tmp/out/count}\n",
)
SQUARE = sh(
    "echo $(({{inputs.parameters.x}} * {{inputs.parameters.x}})) | tee /tmp/sq",
    "square",
    inputs="    - name: x\n",
    outputs="    - name: sq\n      valueFrom: {path: /tmp/sq}\n",
)
ECHO = sh("printf '%s\\n' '{{inputs.parameters.v}}'", "echo", inputs="    - name: v\n")


def fan_out(items: str, count: str = "0", downstream: str = "") -> dict[str, Any]:
    body = f"""
- name: plan
  template: plan
  arguments: {{parameters: [{{name: items, value: '{items}'}}, {{name: count, value: '{count}'}}]}}
- name: fan
  template: square
  dependencies: [plan]
  withParam: "{{{{tasks.plan.outputs.parameters.items}}}}"
  arguments: {{parameters: [{{name: x, value: "{{{{item}}}}"}}]}}
{downstream}"""
    return workflow(body, PLAN, SQUARE, ECHO)


def test_with_param_fans_out_and_aggregates_outputs(tmp_path: Path) -> None:
    downstream = """
- name: total
  template: echo
  dependencies: [fan]
  arguments: {parameters: [{name: v, value: "{{tasks.fan.outputs.parameters.sq}}"}]}
"""
    result = run(fan_out("[1, 2, 3]", downstream=downstream), tmp_path)
    assert result.phase == "Succeeded", result.describe()
    fan = result["fan"]
    assert [c.name.rsplit(".", 1)[1] for c in fan.children] == ["fan(0:1)", "fan(1:2)", "fan(2:3)"]
    assert [c.outputs["sq"] for c in fan.children] == ["1", "4", "9"]
    assert result["total"].stdout == '["1","4","9"]\n'


def test_with_sequence_count_from_an_output_and_start_end(tmp_path: Path) -> None:
    body = """
- name: plan
  template: plan
  arguments: {parameters: [{name: items, value: '[]'}, {name: count, value: '3'}]}
- name: seq
  template: echo
  dependencies: [plan]
  withSequence: {count: "{{tasks.plan.outputs.parameters.count}}"}
  arguments: {parameters: [{name: v, value: "leg-{{item}}"}]}
- name: range
  template: echo
  withSequence: {start: "2", end: "4"}
  arguments: {parameters: [{name: v, value: "{{item}}"}]}
"""
    result = run(workflow(body, PLAN, ECHO), tmp_path)
    assert result.phase == "Succeeded", result.describe()
    assert [c.stdout for c in result["seq"].children] == ["leg-0\n", "leg-1\n", "leg-2\n"]
    assert [c.stdout for c in result["range"].children] == ["2\n", "3\n", "4\n"]


def test_empty_fan_out_is_skipped_and_dependencies_still_run(tmp_path: Path) -> None:
    downstream = """
- {name: after, template: echo, dependencies: [fan],
   arguments: {parameters: [{name: v, value: x}]}}
- {name: strict, template: echo, depends: fan.Succeeded,
   arguments: {parameters: [{name: v, value: x}]}}
- {name: empty-seq, template: echo, withSequence: {count: "0"},
   arguments: {parameters: [{name: v, value: "{{item}}"}]}}
"""
    result = run(fan_out("[]", downstream=downstream), tmp_path)
    assert result.phase == "Succeeded", result.describe()
    assert result["fan"].phase == "Skipped" and result["fan"].children == []
    assert result["empty-seq"].phase == "Skipped"
    assert result["after"].phase == "Succeeded" and result["after"].stdout == "x\n"
    assert result["strict"].phase == "Omitted" and result["strict"].attempts == []


def test_output_parameters_trim_one_newline_and_use_defaults(tmp_path: Path) -> None:
    outputs = (
        "    - name: text\n      valueFrom: {path: /tmp/t}\n"
        "    - name: fallback\n      valueFrom: {path: /tmp/missing, default: dflt}\n"
    )
    writer = sh("printf 'a\\n\\n' > /tmp/t", "writer", outputs=outputs)
    broken = sh("true", "broken", outputs="    - name: x\n      valueFrom: {path: /tmp/none}\n")
    body = "- {name: w, template: writer}\n- {name: b, template: broken}\n"
    result = run(workflow(body, writer, broken), tmp_path)
    assert result["w"].outputs["text"] == "a\n"
    assert result["w"].outputs["fallback"] == "dflt"
    assert result["b"].phase == "Error" and "/tmp/none" in result["b"].message
    assert result.phase == "Error"


FLAKY = sh(
    "if [ -e /data/marker ]; then echo second; else touch /data/marker; echo first; exit 3; fi",
    "flaky",
    extra="  retryStrategy: {limit: 2, backoff: {duration: 5s, factor: 2}}\n",
)
ALWAYS_FAILS = sh(
    "echo nope >&2; exit 1",
    "fails",
    extra="  retryStrategy:\n"
    "    {limit: '2', retryPolicy: Always, backoff: {duration: 5s, factor: 2}}\n",
)


def test_retry_reruns_a_failed_command_with_backoff(tmp_path: Path) -> None:
    body = "- {name: flaky, template: flaky}\n"
    result = run(workflow(body, FLAKY), tmp_path)
    flaky = result["flaky"]
    assert result.phase == "Succeeded", result.describe()
    assert [(a.exit_code, a.stdout, a.delay) for a in flaky.attempts] == [
        (3, "first\n", 0.0),
        (0, "second\n", 5.0),
    ]


def test_retry_gives_up_after_the_limit_and_dependants_are_omitted(tmp_path: Path) -> None:
    body = """
- {name: fails, template: fails}
- {name: next, template: echo, dependencies: [fails],
   arguments: {parameters: [{name: v, value: x}]}}
- {name: on-fail, template: echo, depends: fails.Failed,
   arguments: {parameters: [{name: v, value: y}]}}
"""
    result = run(workflow(body, ALWAYS_FAILS, ECHO), tmp_path)
    assert [a.delay for a in result["fails"].attempts] == [0.0, 5.0, 10.0]
    assert result["fails"].phase == "Failed" and result["fails"].stderr == "nope\n"
    assert result["next"].phase == "Omitted"
    assert result["on-fail"].phase == "Succeeded"
    assert result.phase == "Failed"


def test_retry_policy_on_error_does_not_retry_a_failed_exit(tmp_path: Path) -> None:
    template = ALWAYS_FAILS.replace("retryPolicy: Always", "retryPolicy: OnError")
    result = run(workflow("- {name: fails, template: fails}\n", template), tmp_path)
    assert len(result["fails"].attempts) == 1 and result.phase == "Failed"


SECRET_ENV = sh(
    'echo "$TOKEN ${LEAK:-unset} $PLAIN"',
    "env",
    extra="""    env:
    - {name: TOKEN, valueFrom: {secretKeyRef: {name: creds, key: token}}}
    - {name: PLAIN, value: "{{workflow.name}}"}
""",
)


def test_env_comes_from_secrets_and_the_test_environment_does_not_leak(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEAK", "leaked")
    doc = workflow("- {name: env, template: env}\n", SECRET_ENV)
    result = run(doc, tmp_path, secrets={"creds": {"token": "s3cr3t"}})
    assert result["env"].stdout == f"s3cr3t unset {result.name}\n"
    missing = run(doc, tmp_path / "again", secrets={})
    assert missing["env"].phase == "Error" and "creds" in missing["env"].message
    assert missing["env"].attempts == []


def test_parameters_expressions_and_workflow_variables(tmp_path: Path) -> None:
    doc = workflow(
        """
- name: p
  template: echo
  arguments:
    parameters:
    - {name: v, value: "{{workflow.parameters.greeting}} {{=asInt(workflow.parameters.n) + 1}}"}
""",
        ECHO,
    )
    doc["spec"]["arguments"] = {"parameters": [{"name": "greeting"}, {"name": "n", "value": "1"}]}
    result = run(doc, tmp_path, parameters={"greeting": "hello"})
    assert result["p"].stdout == "hello 2\n"
    assert result.uid and result.name.startswith("harness-")


def test_volume_claims_are_shared_and_paths_are_rewritten(tmp_path: Path) -> None:
    mount = "    volumeMounts: [{name: store, mountPath: /mnt/store}]\n"
    write = sh("echo hi > /mnt/store/f && echo $URL", "write", extra=mount)
    write = write.replace(
        "  container:", "  container:\n    env: [{name: URL, value: 'file:///mnt/store/x'}]"
    )
    read = sh("cat /mnt/store/f", "read", extra=mount)
    doc = workflow(
        "- {name: w, template: write}\n- {name: r, template: read, dependencies: [w]}\n",
        write,
        read,
    )
    doc["spec"]["volumes"] = [{"name": "store", "persistentVolumeClaim": {"claimName": "data"}}]
    result = run(doc, tmp_path)
    host = tmp_path / "run" / "volumes" / "pvc-data"
    assert result["w"].stdout == f"file://{host}/x\n"
    assert result["r"].stdout == "hi\n"


def test_prepare_attempt_can_change_a_command_and_concurrency_keeps_order(tmp_path: Path) -> None:
    seen: list[int] = []

    def hook(attempt: Attempt) -> None:
        seen.append(attempt.number)
        attempt.env["EXTRA"] = "1"

    result = run(fan_out("[4, 5, 6, 7]"), tmp_path, prepare_attempt=hook, concurrency=3)
    assert [c.outputs["sq"] for c in result["fan"].children] == ["16", "25", "36", "49"]
    assert len(seen) == 5 and result["fan"].children[0].attempts[0].env["EXTRA"] == "1"


def test_unsupported_templates_raise_clearly(tmp_path: Path) -> None:
    doc = workflow(
        "- {name: s, template: script}\n",
        "- name: script\n  script: {image: x, source: 'print(1)'}\n",
    )
    with pytest.raises(NotImplementedError, match="script"):
        ArgoHarness(tmp_path).run(doc)
