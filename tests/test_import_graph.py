"""The dependency rules of docs/architecture.md, read from the source's import statements.

Dependencies point one way: the user model <- the IR <- lowering <- dialects; the store <- the
runtime <- the executor; the CLI on top, imported by nothing. A broken rule fails here with
the module, the line and the import.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Which laminar modules each stage may import (prefixes); everything may use the BASE modules.
BASE = (
    "laminar.errors",
    "laminar.contract",
    "laminar.text",
    "laminar.tracebacks",
    "laminar.pickling",
    "laminar.settings",
)
ALLOWED: dict[str, tuple[str, ...]] = {
    "laminar.contract": ("laminar.errors", "laminar.text"),
    "laminar.text": (),
    "laminar.tracebacks": (),
    "laminar.settings": (),
    "laminar.configurations": (
        "laminar.configurations",
        "laminar.model.layer",
        "laminar.model.parameters",
    ),
    "laminar.model": ("laminar.model", "laminar.configurations"),
    "laminar.components": ("laminar.model",),
    "laminar.ir": ("laminar.ir", "laminar.model", "laminar.configurations"),
    "laminar.store": ("laminar.store",),
    "laminar.runtime": (
        "laminar.runtime",
        "laminar.store",
        "laminar.ir",
        "laminar.model",
        "laminar.configurations",
    ),
    "laminar.backends": (
        "laminar.backends",
        "laminar.ir",
        "laminar.model",
        "laminar.configurations",
        "laminar.__version__",
        "laminar.templates",
    ),
}
#: Imports inside functions that cross a rule on purpose, each with its reason.
LAZY_EXCEPTIONS = {
    # The user's entry points into running: ``flow()``, ``MyFlow.results()``, ``MyFlow.ir()``,
    # ``flow.execution(id)``: the model documents them, and imports what serves them lazily.
    ("laminar.model.flow", "laminar.ir"),
    ("laminar.model.flow", "laminar.runtime.call"),
    ("laminar.model.flow", "laminar.runtime.handle"),
    ("laminar.model.flow", "laminar.runtime.results"),
}


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted((ROOT / "laminar").rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        yield ".".join(parts), path
    for path in sorted((ROOT / "backends").rglob("*.py")):
        parts = ["laminar", "backends", *path.relative_to(ROOT / "backends").with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        yield ".".join(parts), path


def imports(path: Path, typing_only: bool = False) -> Iterator[tuple[str, int, bool]]:
    """(imported module, line, inside a function) for each laminar import outside
    ``if TYPE_CHECKING:`` (with ``typing_only``, those inside it too, as lazy)."""
    tree = ast.parse(path.read_text())

    def walk(node: ast.AST, lazy: bool) -> Iterator[tuple[str, int, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                if typing_only:
                    yield from walk(child, True)
                continue
            inner = lazy or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.ImportFrom) and child.module and not child.level:
                for alias in child.names:
                    yield f"{child.module}.{alias.name}", child.lineno, lazy
            elif isinstance(child, ast.Import):
                for alias in child.names:
                    yield alias.name, child.lineno, lazy
            yield from walk(child, inner)

    for name, line, lazy in walk(tree, False):
        if name == "laminar" or name.startswith("laminar."):
            yield name, line, lazy


def stage(module: str) -> str | None:
    for prefix in sorted(ALLOWED, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return prefix
    return None


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_the_modules_are_found() -> None:
    found = dict(modules())
    assert {"laminar.ir", "laminar.store.datastore", "laminar.backends.lowering"} <= set(found)


def test_nothing_imports_the_cli() -> None:
    broken = [
        f"{module} line {line}: {name}"
        for module, path in modules()
        if not module.startswith("laminar.cli") and module != "laminar.__main__"
        for name, line, _ in imports(path)
        if within(name, ("laminar.cli",))
    ]
    assert broken == []


@pytest.mark.parametrize("rule", sorted(ALLOWED))
def test_each_stage_imports_only_what_is_below_it(rule: str) -> None:
    allowed = (*ALLOWED[rule], *BASE)
    broken = [
        f"{module} line {line}: {name}"
        for module, path in modules()
        if stage(module) == rule
        for name, line, lazy in imports(path)
        if not within(name, allowed) and not (lazy and excepted(module, name))
    ]
    assert broken == []


def excepted(module: str, name: str) -> bool:
    return any(m == module and within(name, (target,)) for m, target in LAZY_EXCEPTIONS)


def test_backends_never_import_the_runtime_or_the_store() -> None:
    broken = [
        f"{module} line {line}: {name}"
        for module, path in modules()
        if module.startswith("laminar.backends")
        for name, line, _ in imports(path)
        if within(name, ("laminar.runtime", "laminar.store"))
    ]
    assert broken == []


def test_no_hidden_import_closes_a_cycle() -> None:
    """An import inside a function or under ``TYPE_CHECKING`` that closes a cycle between
    modules is a call cycle hidden from the import system: two modules that call each other.
    The model's documented entry points (``LAZY_EXCEPTIONS``) are the only upward calls."""
    allowed: set[tuple[str, str]] = set()
    broken = [found for pair, found in hidden_cycles(dict(modules())) if pair not in allowed]
    assert broken == []


def test_a_hidden_cycle_is_found(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("from laminar.b import run\n")
    (tmp_path / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from laminar.c import C\n"
    )
    (tmp_path / "c.py").write_text("def f():\n    from laminar.a import x\n")
    found = {f"laminar.{name}": tmp_path / f"{name}.py" for name in "abc"}
    assert [pair for pair, _ in hidden_cycles(found)] == [
        ("laminar.b", "laminar.c"),
        ("laminar.c", "laminar.a"),
    ]
    (tmp_path / "c.py").write_text("def f():\n    from laminar.errors import x\n")
    assert hidden_cycles(found) == []


def hidden_cycles(found: dict[str, Path]) -> list[tuple[tuple[str, str], str]]:
    """Each function-level or ``TYPE_CHECKING`` import (module, imported module) that closes
    a cycle, with where it is."""
    graph: dict[str, set[str]] = {module: set() for module in found}
    hidden: list[tuple[str, str, int]] = []
    for module, path in found.items():
        for name, line, lazy in imports(path, typing_only=True):
            target = resolve(name, found)
            if target is None or target == module or excepted(module, target):
                continue
            graph[module].add(target)
            if lazy:
                hidden.append((module, target, line))
    return [
        ((module, target), f"{module} line {line}: {target} (which reaches {module} again)")
        for module, target, line in sorted(hidden)
        if reaches(graph, target, module)
    ]


def resolve(name: str, found: dict[str, Path]) -> str | None:
    """The module an imported name belongs to (``a.b.C`` -> ``a.b``)."""
    while name and name not in found:
        name = name.rpartition(".")[0]
    return name or None


def reaches(graph: dict[str, set[str]], start: str, goal: str) -> bool:
    seen: set[str] = set()
    todo = [start]
    while todo:
        module = todo.pop()
        if module == goal:
            return True
        if module not in seen:
            seen.add(module)
            todo.extend(graph.get(module, ()))
    return False
