"""The harness's `when:` runs as Argo's does: govaluate after substitution, Skipped nodes that
still let `dependencies` dependants run, lazy fan-outs, and a loud error for reading an output
of a Skipped task (split from test_harness.py to keep modules short; same helpers)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conditions import SkippedOutputError, evaluate_when
from .test_harness import ECHO, run, sh, workflow

COUNT = sh(
    "mkdir -p /tmp/out && echo {{inputs.parameters.n}} > /tmp/out/n",
    "count",
    inputs="    - name: n\n",
    outputs="    - name: n\n      valueFrom: {path: /tmp/out/n}\n",
)


def _count(name: str, n: str) -> str:
    arguments = f"{{parameters: [{{name: n, value: '{n}'}}]}}"
    return f"- {{name: {name}, template: count, arguments: {arguments}}}\n"


def _echo(name: str, after: str, when: str = "", value: str = "x", extra: str = "") -> str:
    text = f"""
- name: {name}
  template: echo
  dependencies: [{after}]
  arguments: {{parameters: [{{name: v, value: "{value}"}}]}}
"""
    if when:
        text += f'  when: "{when}"\n'
    return text + extra


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("1 != 0", True),
        ("0 != 0", False),
        ("2 == 2.0", True),
        ("true == true", True),
        ("false == true", False),
        ("foo != bar", True),
        ("Succeeded == Succeeded", True),
        ("'a b' == 'a b'", True),
        ("1 == '1'", False),
        ("true == 'true'", False),
        ("1 != 0 && true == true", True),
        ("1 != 0 && 0 != 0", False),
        ("0 != 0 || a == a", True),
        ("(0 != 0 || 1 == 1) && (b == c)", False),
        ("true", True),
        ("  false ", False),
    ],
)
def test_when_evaluates_the_govaluate_subset(when: str, expected: bool) -> None:
    assert evaluate_when(when) is expected


@pytest.mark.parametrize(
    "when",
    [
        "{{tasks.a.outputs.parameters.legs}} != 0",  # left unresolved: Argo errs too
        "1 && true",
        "1",
        "1 ==",
        "(1 == 1",
        "1 == 1)",
    ],
)
def test_when_refuses_what_govaluate_refuses(when: str) -> None:
    with pytest.raises(ValueError):
        evaluate_when(when)


@pytest.mark.parametrize("when", ["1 < 2", "a =~ b", "1 + 1 == 2", "!(true)"])
def test_when_beyond_the_subset_is_not_guessed(when: str) -> None:
    with pytest.raises(NotImplementedError):
        evaluate_when(when)


def test_false_when_skips_and_dependencies_still_run(tmp_path: Path) -> None:
    body = (
        _count("zero", "0")
        + _count("one", "1")
        + _echo("gated", "zero", "{{tasks.zero.outputs.parameters.n}} != 0", "gated")
        + _echo("open", "one", "{{tasks.one.outputs.parameters.n}} != 0 && yes == yes", "open")
        + _echo("after", "gated", value="after")
        + "- {name: strict, template: echo, depends: gated.Succeeded,\n"
        "   arguments: {parameters: [{name: v, value: s}]}}\n"
    )
    result = run(workflow(body, COUNT, ECHO), tmp_path)
    assert result.phase == "Succeeded", result.describe()
    gated = result["gated"]
    assert gated.phase == "Skipped" and gated.attempts == []
    assert gated.message == "when '0 != 0' evaluated false"
    assert result["open"].phase == "Succeeded" and result["open"].stdout == "open\n"
    assert result["after"].phase == "Succeeded" and result["after"].stdout == "after\n"
    assert result["strict"].phase == "Omitted"


def test_a_when_argo_cannot_evaluate_is_an_error(tmp_path: Path) -> None:
    body = _count("a", "1") + _echo("b", "a", "{{tasks.a.outputs.parameters.n}} < 2")
    doc = workflow(body, COUNT, ECHO)
    with pytest.raises(NotImplementedError):
        run(doc, tmp_path)
    body = _count("a", "1") + _echo("b", "a", "{{tasks.a.outputs.parameters.n}}")
    result = run(workflow(body, COUNT, ECHO), tmp_path / "again")
    assert result["b"].phase == "Error" and "Expected boolean" in result["b"].message
    assert result.phase == "Error"


def test_a_fan_out_with_a_false_when_is_skipped_without_expanding(tmp_path: Path) -> None:
    """Its plan was Skipped too, so its count cannot resolve: Argo's lazy expansion gives
    no items (Skipped, empty params) instead of an error."""
    plan = (
        _count("zero", "0") + "- name: plan\n  template: count\n  dependencies: [zero]\n"
        '  when: "{{tasks.zero.outputs.parameters.n}} != 0"\n'
        "  arguments: {parameters: [{name: n, value: '3'}]}\n"
    )
    fan = """
- name: fan
  template: echo
  dependencies: [plan]
  when: "{{tasks.zero.outputs.parameters.n}} != 0"
  withSequence: {count: "{{tasks.plan.outputs.parameters.n}}"}
  arguments: {parameters: [{name: v, value: "{{item}}"}]}
"""
    body = plan + fan + _echo("after", "fan", value="after")
    result = run(workflow(body, COUNT, ECHO), tmp_path)
    assert result.phase == "Succeeded", result.describe()
    assert result["plan"].phase == "Skipped"
    assert result["fan"].phase == "Skipped" and result["fan"].children == []
    assert result["after"].stdout == "after\n"


def test_a_fan_out_whose_items_resolve_skips_each_child(tmp_path: Path) -> None:
    """Argo expands first, then skips each child by its `when`; the group Succeeds."""
    fan = """
- name: fan
  template: echo
  dependencies: [two]
  when: "{{tasks.two.outputs.parameters.n}} == 0"
  withSequence: {count: "{{tasks.two.outputs.parameters.n}}"}
  arguments: {parameters: [{name: v, value: "{{item}}"}]}
"""
    result = run(workflow(_count("two", "2") + fan, COUNT, ECHO), tmp_path)
    assert result.phase == "Succeeded", result.describe()
    fan_node = result["fan"]
    assert fan_node.phase == "Succeeded"
    assert [c.phase for c in fan_node.children] == ["Skipped", "Skipped"]
    assert fan_node.children[0].message == "when '2 == 0' evaluated false"


def test_reading_an_output_of_a_skipped_task_fails_loudly(tmp_path: Path) -> None:
    gated = _count("zero", "0") + (
        "- name: gated\n  template: count\n  dependencies: [zero]\n"
        '  when: "{{tasks.zero.outputs.parameters.n}} != 0"\n'
        "  arguments: {parameters: [{name: n, value: '1'}]}\n"
    )
    reader = _echo("reader", "gated", value="{{tasks.gated.outputs.parameters.n}}")
    with pytest.raises(SkippedOutputError, match="gated was Skipped"):
        run(workflow(gated + reader, COUNT, ECHO), tmp_path)
    in_when = _echo("reader", "gated", "{{tasks.gated.outputs.parameters.n}} != 0")
    with pytest.raises(SkippedOutputError, match="Argo cannot resolve it"):
        run(workflow(gated + in_when, COUNT, ECHO), tmp_path / "when")
    fan = """
- name: fan
  template: echo
  dependencies: [gated]
  withSequence: {count: "{{tasks.gated.outputs.parameters.n}}"}
  arguments: {parameters: [{name: v, value: "{{item}}"}]}
"""
    with pytest.raises(SkippedOutputError):
        run(workflow(gated + fan, COUNT, ECHO), tmp_path / "fan")
