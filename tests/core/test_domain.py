"""The domain package knows nothing of Kedro or MLflow; no code starts another Kedro run."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import PROJECT_ROOT

SRC = PROJECT_ROOT / "src" / "kedro_ml"

IMPORT_ALL = """
import importlib, pkgutil, sys
import kedro_ml.{package} as package
for module in pkgutil.iter_modules(package.__path__):
    importlib.import_module(f"kedro_ml.{package}.{{module.name}}")
loaded = sorted({{name.split(".")[0] for name in sys.modules}})
print(" ".join(loaded))
"""


def _top_level_modules(package: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL.format(package=package)],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(result.stdout.split())


def test_core_imports_neither_kedro_nor_mlflow():
    loaded = _top_level_modules("core")
    assert "sklearn" in loaded and "pandas" in loaded  # it did import its modules
    assert not loaded & {"kedro", "kedro_datasets", "kedro_mlflow", "mlflow"}


def test_the_served_code_imports_no_kedro():
    loaded = _top_level_modules("serving")
    assert "mlflow" in loaded
    assert not loaded & {"kedro", "kedro_datasets", "kedro_mlflow"}


def test_no_module_starts_a_kedro_run_in_a_process():
    users = {
        path.relative_to(SRC).as_posix(): path.read_text()
        for path in SRC.rglob("*.py")
        if re.search(
            r"^\s*(import subprocess|from subprocess)|os\.(system|exec|spawn)|multiprocessing",
            path.read_text(),
            re.MULTILINE,
        )
    }
    # the only process any module starts is git (the run's commit tag, and whether
    # a run would overwrite files git tracks), through one helper
    assert set(users) == {"framework/lineage.py"}
    lineage = users["framework/lineage.py"]
    calls = re.findall(r"subprocess\.run\(\s*\[([^\]]*)\]", lineage)
    assert calls == ['"git", *args']
    assert re.findall(r"_git\(project_path, ([^)]*)\)", lineage) == [
        '"rev-parse", "HEAD"',
        '"ls-files", "--", *(str(p',
    ]
