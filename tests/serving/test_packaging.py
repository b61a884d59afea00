"""The code logged with a model holds everything the served model imports of ``kedro_ml``."""

from __future__ import annotations

import ast
from pathlib import Path

from kedro_ml.serving.packaging import _stage_code


def _module_file(root: Path, name: str) -> Path | None:
    parts = name.split(".")
    for candidate in (
        root.joinpath(*parts).with_suffix(".py"),
        root.joinpath(*parts, "__init__.py"),
    ):
        if candidate.is_file():
            return candidate
    return None


def _kedro_ml_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names if a.name.startswith("kedro_ml")}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "kedro_ml"
        ):
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


def test_the_logged_code_holds_every_module_the_served_model_imports(tmp_path):
    root = _stage_code(tmp_path / "code").parent
    missing = []
    seen: set[str] = set()
    todo = ["kedro_ml.serving.model_code", "kedro_ml.serving.model"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = _module_file(root, name)
        if path is None:
            # ``from kedro_ml.x import y``: y may be a name, not a module
            parent = name.rsplit(".", 1)[0]
            if _module_file(root, parent) is None:
                missing.append(name)
            continue
        todo.extend(_kedro_ml_imports(path))
    assert missing == [], f"add these to packaging.SERVED_CODE: {sorted(missing)}"
    assert "kedro_ml.files" in seen  # the store's whole-file writes
