"""The store's parts depend on what is below them, never on the ``Execution`` facade above.

Every import between laminar.store modules counts here, including those inside functions and
under ``if TYPE_CHECKING:``: a cycle hidden behind a lazy import is still a cycle of calls.
"""

from __future__ import annotations

import ast
from pathlib import Path

STORE = Path(__file__).resolve().parents[2] / "laminar" / "store"


def store_imports() -> dict[str, set[str]]:
    """Module -> the laminar.store modules it imports, however and wherever."""
    graph: dict[str, set[str]] = {}
    for path in sorted(STORE.glob("*.py")):
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                if name.startswith("laminar.store.") and (STORE / f"{name[14:]}.py").exists():
                    found.add(name[len("laminar.store.") :])
        graph[path.stem] = found - {path.stem}
    return graph


def test_store_modules_import_each_other_without_cycles() -> None:
    graph = store_imports()
    order: list[str] = []
    visiting: set[str] = set()

    def visit(module: str, trail: tuple[str, ...]) -> None:
        assert module not in visiting, "import cycle: " + " -> ".join((*trail, module))
        if module in order:
            return
        visiting.add(module)
        for imported in sorted(graph[module]):
            visit(imported, (*trail, module))
        visiting.discard(module)
        order.append(module)

    for module in sorted(graph):
        visit(module, ())
    assert order.index("objects") < order.index("commits") < order.index("codec")


def test_no_part_reaches_up_to_the_facade() -> None:
    graph = store_imports()
    importers = sorted(m for m, imported in graph.items() if "execution" in imported)
    assert importers == []  # only the runtime and the CLI use the facade
