"""Shared fixtures: the project's own parameters, a temporary copy of the project."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[1]

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")

# What a temporary copy of the project leaves out: environments, outputs, stores.
_IGNORED = shutil.ignore_patterns(
    ".venv",
    ".tools",
    ".git",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    "mlflow.db",
    "mlruns",
    "mlartifacts",
    "build",
    "dist",
    "*.log",
)
_DATA_OUTPUT_LAYERS = (
    "02_intermediate",
    "03_primary",
    "04_feature",
    "05_model_input",
    "06_models",
    "07_model_output",
    "08_reporting",
)


def load_parameters(name: str, env: str = "base") -> dict:
    """The parameters file ``conf/<env>/parameters_<name>.yml`` as a dict."""
    path = PROJECT_ROOT / "conf" / env / f"parameters_{name}.yml"
    return yaml.safe_load(path.read_text())


@pytest.fixture
def synthesize_params() -> dict:
    """The default game's generator parameters."""
    return load_parameters("synthesize")["synthesize"]


def _copy_project(dst: Path) -> Path:
    shutil.copytree(PROJECT_ROOT, dst, ignore=_IGNORED)
    for data_dir in dst.glob("data/**/"):
        if data_dir.name in _DATA_OUTPUT_LAYERS:
            shutil.rmtree(data_dir)
            data_dir.mkdir()
    return dst


@pytest.fixture
def project_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh copy of the project (config, raw samples, no outputs), as the cwd."""
    project = _copy_project(tmp_path / "project")
    monkeypatch.chdir(project)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    yield project


def run_kedro(
    project: Path, pipeline: str, env: str | None = None, params: dict | None = None
) -> dict:
    """Run a registered pipeline through ``KedroSession`` in ``project``."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(project)
    with KedroSession.create(
        project_path=project, env=env, runtime_params=params
    ) as session:
        return session.run(pipeline_names=[pipeline])
