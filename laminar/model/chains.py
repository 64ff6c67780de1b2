"""Chains of flows a flow file writes (``flow1().next(flow=Flow2(), linker=...)``), found
without running them.

A chain is a call made when the code around it runs (the script's ``if flow := Flow1(): ...``,
an exit hook, a task), not a declaration on a flow class, so importing the file never runs it
and a compiler would not know of it: ``laminar compile`` reads the file's source for such
calls, to say that the chain is not compiled (``laminar.cli.compile``).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

#: At most this many characters of the next flow's expression are kept (``Chain.following``).
SHOWN = 60


@dataclass(frozen=True)
class Chain:
    """One ``.next(flow=..., linker=...)`` call of a flow file."""

    #: The line of its ``.next`` in the file (1-based).
    line: int
    #: The next flow as the call names it (``Flow2()``), on one line and at most ``SHOWN``
    #: characters; "" when not given.
    following: str
    #: The function the call is in (a hook, ``__call__``); "" in the script's own code.
    function: str = ""


def chains_in(path: str | Path) -> list[Chain]:
    """The ``.next(...)`` calls of ``path`` that chain flows, in file order.

    A call counts when it is a method call named ``next`` that passes ``linker`` (by keyword
    or as its second argument) or ``flow=``, as ``Execution.next(flow, linker)`` is called;
    ``next(iterator)`` and a ``.next()`` without them do not. A file that does not parse has
    no chains here (importing it already failed with its own message)."""
    source = Path(path).read_text(encoding="utf-8", errors="replace")
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    finder = _Finder(source)
    finder.visit(tree)
    return [chain for _, chain in sorted(finder.found, key=lambda pair: pair[0])]


class _Finder(ast.NodeVisitor):
    def __init__(self, source: str) -> None:
        self.source = source
        self.functions: list[str] = []  # the functions around the node visited
        self.found: list[tuple[tuple[int, int], Chain]] = []  # where its ``.next`` ends

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.functions.append(node.name)
        self.generic_visit(node)
        self.functions.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        if not (isinstance(node.func, ast.Attribute) and node.func.attr == "next"):
            return
        keywords = {k.arg: k.value for k in node.keywords if k.arg is not None}
        if not ("linker" in keywords or "flow" in keywords or len(node.args) == 2):
            return
        given = keywords.get("flow", node.args[0] if node.args else None)
        text = "" if given is None else (ast.get_source_segment(self.source, given) or "")
        text = " ".join(text.split())  # one line, however it was written
        text = text if len(text) <= SHOWN else text[: SHOWN - 3] + "..."
        at = node.func.end_lineno or node.lineno, node.func.end_col_offset or 0
        inside = self.functions[-1] if self.functions else ""
        self.found.append((at, Chain(at[0], text, inside)))
