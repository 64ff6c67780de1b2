"""Every escaping function, fuzzed: whatever the text, it comes back exactly, as data.

Each property is the promise a generated file relies on: a YAML scalar parses back to the
string (DEL, C1, U+0085, U+2028 included), a comment stays one line, a Python literal evaluates
to the string, GitHub evaluates only the expressions laminar wrote, and Kubernetes turns an
Argo container string back into the original without Argo seeing a ``{{``.
"""

from __future__ import annotations

import ast
import re
from typing import Any

import pytest
import yaml
from argo.pods import kubernetes_expand
from hypothesis import given, settings
from hypothesis import strategies as st

from laminar.backends.argo import ENV_LBRACE, container_text
from laminar.backends.document import Expression, to_yaml, yaml_string
from laminar.backends.escaping import comment_text, github_text, python_literal
from laminar.errors import CompileError

#: Any text Python can hold that is valid Unicode (lone surrogates are refused, tested below).
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)
#: Text rich in the characters that break naive escaping.
NASTY = st.text(
    st.sampled_from(list("${}()\"'\\:#-&*!|>%@`\n\r\t \x00\x1b\x7f\x85\x9f\u2028\u2029\ufeff")),
    max_size=40,
)
STRINGS = st.one_of(TEXT, NASTY)


@settings(max_examples=200)
@given(STRINGS)
def test_a_yaml_scalar_parses_back_exactly(value: str) -> None:
    assert yaml.safe_load(f"key: {yaml_string(value)}") == {"key": value}


@settings(max_examples=200)
@given(st.dictionaries(STRINGS, STRINGS, max_size=4), st.lists(STRINGS, max_size=4))
def test_a_document_parses_back_exactly(mapping: dict[str, str], items: list[str]) -> None:
    document = {"mapping": mapping, "items": items, "on": {"push": None}}
    text = to_yaml(document, comments=["header\nwith a second line"], plain_keys=frozenset({"on"}))
    loaded = yaml.safe_load(text)
    assert loaded["mapping"] == mapping
    assert loaded["items"] == items
    assert loaded[True] == {"push": None}  # `on` stays plain, as GitHub expects
    assert all(line.startswith("# ") for line in text.splitlines()[:1])


@pytest.mark.parametrize("key", ["yes", "No", "on", "OFF", "y", "null", "~", "true", "<<"])
def test_keys_yaml_1_1_would_misread_are_quoted(key: str) -> None:
    assert yaml.safe_load(to_yaml({key: "v"})) == {key: "v"}


def test_lone_surrogates_are_refused_with_a_message() -> None:
    with pytest.raises(CompileError, match="not valid Unicode text"):
        yaml_string("bad \udcff byte")


@settings(max_examples=200)
@given(STRINGS)
def test_a_comment_stays_one_line(value: str) -> None:
    text = comment_text(value)
    assert text.isprintable() and len(f"# {text}".splitlines()) == 1
    # Python tokenizes it as one comment: nothing after it is code.
    assert ast.parse(f"# {text}\nx = 1").body[0].lineno == 2


@settings(max_examples=200)
@given(STRINGS)
def test_a_python_literal_evaluates_to_the_string(value: str) -> None:
    literal = python_literal(value)
    assert ast.literal_eval(literal) == value
    assert len(literal.splitlines()) == 1


def github_evaluate(text: str) -> str:
    """What GitHub makes of a field: each ``${{ '...' }}`` expression becomes its string;
    any other expression is a failure of the escaping."""
    out, position = [], 0
    for match in re.finditer(r"\$\{\{(.*?)\}\}", text, re.DOTALL):
        out.append(text[position : match.start()])
        literal = re.fullmatch(r"\s*'((?:[^']|'')*)'\s*", match.group(1))
        assert literal is not None, f"user text became the expression {match.group(0)!r}"
        out.append(literal.group(1).replace("''", "'"))
        position = match.end()
    out.append(text[position:])
    return "".join(out)


@settings(max_examples=200)
@given(STRINGS)
def test_github_evaluates_no_user_expression(value: str) -> None:
    assert github_evaluate(github_text(value)) == value


@settings(max_examples=200)
@given(STRINGS)
def test_argo_container_text_reaches_the_process_unchanged(value: str) -> None:
    text = container_text(value)
    assert "{{" not in text  # Argo has nothing to substitute
    assert kubernetes_expand(text, {ENV_LBRACE: "{"}) == value


def test_expressions_are_written_as_built() -> None:
    text = to_yaml({"plain": "{{x}}", "expression": Expression("{{workflow.name}}")})
    loaded: dict[str, Any] = yaml.safe_load(text)
    assert loaded == {"plain": "{{x}}", "expression": "{{workflow.name}}"}
