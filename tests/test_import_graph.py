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
    # The user's entry points into running: ``flow()``, ``MyFlow.results()``, ``MyFlow.ir()``.
    ("laminar.model.flow", "laminar.ir"),
    ("laminar.model.flow", "laminar.runtime.executor"),
    ("laminar.model.flow", "laminar.runtime.script"),
    ("laminar.model.flow", "laminar.runtime.context"),
    ("laminar.model.flow", "laminar.runtime.handle"),
    ("laminar.model.flow", "laminar.runtime.results"),
    ("laminar.model.flow", "laminar.store.datastore"),
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


def imports(path: Path) -> Iterator[tuple[str, int, bool]]:
    """(imported module, line, inside a function) for each laminar import outside
    ``if TYPE_CHECKING:``."""
    tree = ast.parse(path.read_text())

    def walk(node: ast.AST, lazy: bool) -> Iterator[tuple[str, int, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
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
