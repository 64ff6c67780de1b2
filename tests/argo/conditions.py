"""A DAG task's `when:` as Argo evaluates it, and the error for reading a skipped task.

Argo substitutes the `{{...}}` tags of `when`, then hands the text to govaluate
(`shouldExecute` in workflow/controller/operator.go), after turning every bare word
(govaluate's variables) into a string, so `foo != bar` compares two strings. The subset
here: `==`, `!=`, `&&`, `||`, parentheses, numbers (floats, as in govaluate), `true` and
`false`, quoted strings and bare words. `==` is govaluate's `reflect.DeepEqual`: `1 == '1'`
is false. Anything else raises: `ValueError` for what govaluate would refuse too (a `{{`
left unresolved, a missing operand), `NotImplementedError` for legal govaluate beyond the
subset (`<`, `=~`, `?:`...), so the harness never guesses.
"""

from __future__ import annotations

import re
from typing import Any

_TOKEN = re.compile(
    r"\s*(?:(?P<op>&&|\|\||==|!=|\(|\))"
    r"|(?P<number>-?\d+(?:\.\d+)?(?![\w.]))"
    r"|(?P<string>'[^']*'|\"[^\"]*\")"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_.]*)"
    r"|(?P<other>[<>=!~?:+\-*/%^&|]+)"
    r"|(?P<bad>\S))"
)


class SkippedOutputError(RuntimeError):
    """A task read an output of a task that was Skipped, Omitted or never ran.

    Argo cannot resolve such a reference (argoproj/argo-workflows#14498, #15837): the tag
    stays literal, so the task errs or hangs. The harness raises instead of imitating that,
    so a test fails at once on a generated workflow that does it.
    """


def evaluate_when(when: str) -> bool:
    """Whether a substituted `when` lets its task run; `ValueError` where Argo errs."""
    tokens = _tokens(when)
    pos = 0

    def peek() -> tuple[str, Any] | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> tuple[str, Any]:
        nonlocal pos
        if pos >= len(tokens):
            raise ValueError(f"Invalid 'when' expression '{when}': unexpected end")
        pos += 1
        return tokens[pos - 1]

    def logical(value: Any, operator: str) -> bool:
        if not isinstance(value, bool):
            raise ValueError(
                f"Value '{value}' cannot be used with the logical operator '{operator}', "
                f"it is not a bool (in '{when}')"
            )
        return value

    def disjunction() -> Any:
        value = conjunction()
        while peek() == ("op", "||"):
            take()
            right = conjunction()
            value = logical(value, "||") or logical(right, "||")
        return value

    def conjunction() -> Any:
        value = comparison()
        while peek() == ("op", "&&"):
            take()
            right = comparison()
            value = logical(value, "&&") and logical(right, "&&")
        return value

    def comparison() -> Any:
        left = operand()
        if peek() in (("op", "=="), ("op", "!=")):
            operator = take()[1]
            right = operand()
            equal = type(left) is type(right) and left == right
            return equal if operator == "==" else not equal
        return left

    def operand() -> Any:
        kind, value = take()
        if (kind, value) == ("op", "("):
            inner = disjunction()
            if take() != ("op", ")"):
                raise ValueError(f"Invalid 'when' expression '{when}': unbalanced parentheses")
            return inner
        if kind == "op":
            raise ValueError(f"Invalid 'when' expression '{when}': unexpected {value!r}")
        return value

    result = disjunction()
    if pos != len(tokens):
        raise ValueError(f"Invalid 'when' expression '{when}': unexpected {tokens[pos][1]!r}")
    if not isinstance(result, bool):
        raise ValueError(f"Expected boolean evaluation for '{when}'. Got {result}")
    return result


def _tokens(when: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    pos, text = 0, when.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        assert match is not None  # `bad` matches any character
        pos = match.end()
        kind = match.lastgroup or "bad"
        value = match.group(kind)
        if kind == "bad":
            raise ValueError(f"Invalid 'when' expression '{when}': Invalid token: {value!r}")
        if kind == "other":
            raise NotImplementedError(f"operator {value!r} in when '{when}' (harness subset)")
        if kind == "number":
            tokens.append(("value", float(value)))
        elif kind == "string":
            tokens.append(("value", value[1:-1]))
        elif kind == "word":
            tokens.append(("value", {"true": True, "false": False}.get(value, value)))
        else:
            tokens.append(("op", value))
    return tokens
