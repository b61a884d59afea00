"""The packages of ``kedro_ml`` import only downwards: no circle, no package reaching up.

Read from the source (every ``import``, at module level or inside a function),
so a lazy import inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from tests.conftest import PROJECT_ROOT

SRC = PROJECT_ROOT / "src" / "kedro_ml"

# Each part of the package and the layer it sits on: a part imports only parts
# of lower layers (or itself). The top-level modules are parts of their own.
LAYERS = {
    "core": 0,
    "runtime": 0,
    "files": 0,
    "errors": 0,
    "serving": 1,
    "spark": 1,
    "datasets": 2,
    "pipelines": 2,
    "framework": 3,
    "hooks": 4,
    "orchestration": 4,
    "pipeline_registry": 5,
    "settings": 5,
    "cli": 5,
    "__main__": 6,
    "__init__": 0,
}


def _part(path: Path) -> str:
    relative = path.relative_to(SRC)
    return relative.parts[0].removesuffix(".py")


def _imported_parts(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    parts = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
            if node.module == "kedro_ml":
                names = [f"kedro_ml.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            package = path.parent.relative_to(SRC).parts
            base = list(package[: len(package) - node.level + 1])
            names = [".".join(["kedro_ml", *base, node.module or ""])]
        for name in names:
            pieces = name.split(".")
            if pieces[0] == "kedro_ml" and len(pieces) > 1:
                parts.add(pieces[1])
    return parts


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for path in SRC.rglob("*.py"):
        part = _part(path)
        graph[part] |= _imported_parts(path) - {part}
    return graph


def test_every_part_has_a_layer():
    assert set(_graph()) <= set(LAYERS), set(_graph()) - set(LAYERS)


def test_no_part_imports_one_above_it():
    upward = {
        (part, imported)
        for part, imports in _graph().items()
        for imported in imports
        if LAYERS[imported] >= LAYERS[part] and imported != "__init__"
    }
    assert upward == set()


def test_no_import_circle_between_parts():
    graph = _graph()
    visiting, done, circles = set(), set(), []

    def visit(part: str, trail: list[str]) -> None:
        if part in visiting:
            circles.append([*trail[trail.index(part) :], part])
            return
        if part in done:
            return
        visiting.add(part)
        for imported in sorted(graph.get(part, ())):
            visit(imported, [*trail, part])
        visiting.discard(part)
        done.add(part)

    for part in sorted(graph):
        visit(part, [])
    assert circles == []


def test_the_spark_path_calls_core_and_never_the_pipelines():
    assert _graph()["spark"] <= {"core"}


def test_orchestration_stands_on_the_base_not_on_hooks():
    assert "hooks" not in _graph()["orchestration"]
    assert "hooks" not in _graph()["framework"]


def test_the_walk_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from kedro_ml.pipelines import x\n")
    assert _imported_parts(module) == {"pipelines"}
