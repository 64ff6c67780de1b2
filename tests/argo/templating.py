"""Argo's `{{...}}` template tags, `{{=...}}` expressions and `depends` logic.

Shared by the validator (which only needs the names a string mentions) and the
harness (which needs values), so both read Argo strings the same way.
"""

from __future__ import annotations

import ast
import base64
import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

# fasttemplate (Argo's engine) takes the text up to the first `}}`.
TAG = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)

# Tags Argo itself insists on resolving (common.GlobalVarValidWorkflowVariablePrefix), plus
# the bare `item`, `retries` and expressions, which the stricter checks here also cover.
CHECKED_PREFIXES = ("inputs.", "outputs.", "pod.", "node.", "tasks.", "steps.", "workflow.")


def is_checked(tag: str) -> bool:
    """True when Argo would fail on this tag if it did not resolve (others stay literal)."""
    return (
        tag.startswith(CHECKED_PREFIXES)
        or tag in ("item", "retries")
        or tag.startswith(("item.", "="))
    )


def tags(text: str) -> Iterator[str]:
    """The stripped contents of every `{{...}}` in `text`."""
    for match in TAG.finditer(text):
        yield match.group(1).strip()


class UnresolvedError(Exception):
    """A checked tag whose name is not in scope; ``name`` is that name."""

    def __init__(self, message: str, name: str = "") -> None:
        super().__init__(message)
        self.name = name


def substitute(text: str, scope: Mapping[str, Any]) -> str:
    """Replace every checked tag with its value; unchecked tags stay literal, as in Argo.

    `scope` maps flat names (`inputs.parameters.x`, `item`, `item.key`) to values;
    non-string values are rendered as JSON, which is how Argo renders items.
    """

    def replace(match: re.Match[str]) -> str:
        tag = match.group(1).strip()
        if tag.startswith("="):
            return render(evaluate(tag[1:], scope))
        if tag in scope:
            return render(scope[tag])
        if is_checked(tag):
            raise UnresolvedError(f"failed to resolve {{{{{tag}}}}}", tag)
        return match.group(0)

    return TAG.sub(replace, text)


def render(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return json.dumps(value, separators=(",", ":"))


# --- {{= ... }} expressions (a small subset of expr-lang, translated to Python's AST) ------

_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_WORDS = {"true": "True", "false": "False", "nil": "None", "and": "and", "or": "or", "not": "not"}


def _to_python(expr: str) -> str:
    """Rewrite expr-lang operators outside string literals into Python syntax."""
    out: list[str] = []
    pos = 0
    for match in _STRING.finditer(expr):
        out.append(_rewrite_code(expr[pos : match.start()]))
        out.append(match.group(0))
        pos = match.end()
    out.append(_rewrite_code(expr[pos:]))
    return "".join(out)


def _rewrite_code(code: str) -> str:
    code = code.replace("&&", " and ").replace("||", " or ")
    code = re.sub(r"!(?!=)", " not ", code)
    if "?" in code:
        raise NotImplementedError("the ternary operator is not supported in {{=...}} here")
    return re.sub(r"\b(true|false|nil)\b", lambda m: _WORDS[m.group(1)], code)


def parse_expression(expr: str) -> ast.expr:
    try:
        return ast.parse(_to_python(expr).strip(), mode="eval").body
    except SyntaxError as exc:
        raise ValueError(f"cannot parse expression {expr!r}: {exc.msg}") from exc


def _as_int(value: Any) -> int:
    return int(float(value)) if isinstance(value, str) and "." in value else int(value)


_JSONPATH_STEP = re.compile(r"\[(\d+)\]|\.([A-Za-z_][\w-]*)")


def _jsonpath(document: Any, path: str) -> Any:
    """Argo's ``jsonpath(json, path)`` for the paths laminar writes: ``$`` then ``[N]``
    indexes and ``.key`` members (anything else raises, so an unsupported path shows)."""
    value = json.loads(document) if isinstance(document, str) else document
    if not path.startswith("$"):
        raise NotImplementedError(f"jsonpath {path!r}: only paths from $")
    pos = 1
    while pos < len(path):
        step = _JSONPATH_STEP.match(path, pos)
        if step is None:
            raise NotImplementedError(f"jsonpath {path!r} at {path[pos:]!r}")
        try:
            value = value[int(step.group(1))] if step.group(1) else value[step.group(2)]
        except (IndexError, KeyError, TypeError) as exc:
            raise UnresolvedError(f"jsonpath {path!r}: nothing at {step.group(0)!r}") from exc
        pos = step.end()
    return value


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "asInt": _as_int,
    "jsonpath": _jsonpath,
    "asFloat": float,
    "int": _as_int,
    "float": float,
    "string": render,
    "len": len,
    "toJson": lambda v: json.dumps(v, separators=(",", ":")),
    "fromJson": json.loads,
    "sprig.int": _as_int,
    "sprig.atoi": _as_int,
    "sprig.toString": render,
    "sprig.add": lambda a, b: _as_int(a) + _as_int(b),
    "sprig.sub": lambda a, b: _as_int(a) - _as_int(b),
    "sprig.mul": lambda a, b: _as_int(a) * _as_int(b),
    "sprig.div": lambda a, b: _as_int(a) // _as_int(b),
    "sprig.max": lambda *a: max(_as_int(x) for x in a),
    "sprig.min": lambda *a: min(_as_int(x) for x in a),
    "sprig.trim": lambda s: str(s).strip(),
    "sprig.lower": lambda s: str(s).lower(),
    "sprig.upper": lambda s: str(s).upper(),
    "sprig.quote": lambda s: json.dumps(str(s)),
    "sprig.b64enc": lambda s: base64.b64encode(str(s).encode("utf-8")).decode("ascii"),
    "sprig.until": lambda n: list(range(_as_int(n))),
}

_BINOPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Mod: lambda a, b: a % b,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: lambda a, b: bool(a == b),
    ast.NotEq: lambda a, b: bool(a != b),
    ast.Lt: lambda a, b: bool(a < b),
    ast.LtE: lambda a, b: bool(a <= b),
    ast.Gt: lambda a, b: bool(a > b),
    ast.GtE: lambda a, b: bool(a >= b),
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}


def dotted(node: ast.expr) -> list[str] | None:
    """`a.b['c-d'].e` -> ['a', 'b', 'c-d', 'e']; None when the node is not such a chain."""
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        head = dotted(node.value)
        return None if head is None else [*head, node.attr]
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        head = dotted(node.value)
        key = node.slice.value
        return None if head is None or not isinstance(key, str) else [*head, key]
    return None


def referenced_names(expr: str) -> list[str]:
    """The variable names (`tasks.a.outputs.parameters.p`) an expression reads."""
    names: list[str] = []

    def visit(node: ast.AST) -> None:
        chain = dotted(node) if isinstance(node, ast.expr) else None
        if chain is not None:
            if ".".join(chain) not in FUNCTIONS and chain[0] != "sprig":
                names.append(".".join(chain))
            return
        if isinstance(node, ast.Call):
            for arg in node.args:
                visit(arg)
            return
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(parse_expression(expr))
    return names


def evaluate(expr: str, scope: Mapping[str, Any]) -> Any:
    """Evaluate an expression against flat `scope` names; unknown constructs raise."""

    def ev(node: ast.expr) -> Any:
        if isinstance(node, ast.Constant):
            return node.value
        chain = dotted(node)
        if chain is not None:
            return lookup(chain)
        if isinstance(node, ast.Subscript):
            return ev(node.value)[ev(node.slice)]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return _BINOPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)):
            value = ev(node.operand)
            return (not value) if isinstance(node.op, ast.Not) else -value
        if isinstance(node, ast.BoolOp):
            values = [ev(v) for v in node.values]
            return all(values) if isinstance(node.op, ast.And) else any(values)
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE:
            return _COMPARE[type(node.ops[0])](ev(node.left), ev(node.comparators[0]))
        if isinstance(node, ast.Call):
            name = dotted(node.func)
            func = FUNCTIONS.get(".".join(name)) if name else None
            if func is None:
                raise NotImplementedError(f"function {ast.unparse(node.func)} in {expr!r}")
            return func(*(ev(a) for a in node.args))
        if isinstance(node, ast.List):
            return [ev(e) for e in node.elts]
        raise NotImplementedError(f"unsupported construct {ast.unparse(node)!r} in {expr!r}")

    def lookup(chain: list[str]) -> Any:
        name = ".".join(chain)
        if name in scope:
            return scope[name]
        # `item.x` when item is a map, or a whole sub-tree (`inputs.parameters`).
        for cut in range(len(chain) - 1, 0, -1):
            head = ".".join(chain[:cut])
            if head in scope and isinstance(scope[head], dict):
                value: Any = scope[head]
                for key in chain[cut:]:
                    value = value[key]
                return value
        prefix = name + "."
        sub = {k[len(prefix) :]: v for k, v in scope.items() if k.startswith(prefix)}
        if sub:
            return sub
        raise UnresolvedError(f"failed to resolve {name!r} in expression {expr!r}", name)

    return ev(parse_expression(expr))


# --- DAG `depends` logic --------------------------------------------------------------------

RESULTS = ("Succeeded", "Failed", "Errored", "Skipped", "Omitted", "Daemoned")
GROUP_RESULTS = ("AnySucceeded", "AllFailed")
_DEPENDS_TOKEN = re.compile(r"\s*(\(|\)|&&|\|\||!|[A-Za-z0-9][-A-Za-z0-9_]*(?:\.[A-Za-z]+)?)")


def _depends_tokens(expr: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    expr = expr.rstrip()
    while pos < len(expr):
        match = _DEPENDS_TOKEN.match(expr, pos)
        if match is None:
            raise ValueError(f"cannot parse depends {expr!r} at {expr[pos:]!r}")
        tokens.append(match.group(1))
        pos = match.end()
    return tokens


def depends_operands(expr: str) -> list[tuple[str, str | None]]:
    """(task, result-or-None) for every operand of a `depends` expression."""
    operands = []
    for token in _depends_tokens(expr):
        if token not in ("(", ")", "&&", "||", "!"):
            task, _, result = token.partition(".")
            operands.append((task, result or None))
    return operands


def evaluate_depends(expr: str, result_of: Callable[[str, str], bool]) -> bool:
    """Evaluate a `depends` string; `result_of(task, result)` answers one operand.

    A bare `task` means `task.Succeeded || task.Skipped || task.Daemoned`, as documented.
    """
    tokens = _depends_tokens(expr)
    pos = 0

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> str:
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def disjunction() -> bool:
        value = conjunction()
        while peek() == "||":
            take()
            value = conjunction() or value
        return value

    def conjunction() -> bool:
        value = unary()
        while peek() == "&&":
            take()
            value = unary() and value
        return value

    def unary() -> bool:
        token = take()
        if token == "!":
            return not unary()
        if token == "(":
            value = disjunction()
            if take() != ")":
                raise ValueError(f"unbalanced parentheses in depends {expr!r}")
            return value
        task, _, result = token.partition(".")
        if not result:
            return any(result_of(task, r) for r in ("Succeeded", "Skipped", "Daemoned"))
        if result not in RESULTS + GROUP_RESULTS:
            raise ValueError(f"unknown task result {result!r} in depends {expr!r}")
        return result_of(task, result)

    value = disjunction()
    if pos != len(tokens):
        raise ValueError(f"trailing tokens in depends {expr!r}")
    return value
