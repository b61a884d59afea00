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
    "mlflow.db.lock",
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
    for data_dir in sorted(dst.glob("data/**/"), reverse=True):
        if data_dir.name in _DATA_OUTPUT_LAYERS:
            shutil.rmtree(data_dir)
            data_dir.mkdir()
        elif data_dir.name == "replay":  # a replay's work folder, made by a run
            shutil.rmtree(data_dir)
    return dst


@pytest.fixture
def project_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh copy of the project (config, raw samples, no outputs), as the cwd."""
    project = _copy_project(tmp_path / "project")
    monkeypatch.chdir(project)
    # an absolute store per copy: MLflow caches stores by URI, so a relative
    # sqlite URI would keep pointing at the first copy's database
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{project / 'mlflow.db'}")
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


def kedro_process(
    project: Path, *args: str, env: dict | None = None, timeout: float = 600
):
    """``kedro <args>`` in ``project`` as a user runs it, in its own process: what it printed."""
    import subprocess
    import sys

    return subprocess.run(
        [str(Path(sys.executable).with_name("kedro")), *args],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        timeout=timeout,
        check=False,
    )


def run_command(project: Path, *args: str):
    """Run a project command (``kedro <args>``) in this process; fail on a non-zero exit."""
    from click.testing import CliRunner
    from kedro.framework.startup import bootstrap_project

    from kedro_ml.cli import cli

    result = CliRunner().invoke(
        cli, list(args), obj=bootstrap_project(project), catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result


def project_parameters(env: str | None = None) -> dict:
    """The project's resolved parameters (base, plus ``env`` when given)."""
    from kedro.config import OmegaConfigLoader

    from kedro_ml.settings import CONFIG_LOADER_ARGS

    loader = OmegaConfigLoader(
        conf_source=str(PROJECT_ROOT / "conf"),
        **{**CONFIG_LOADER_ARGS, "default_run_env": env or "local"},
    )
    return loader["parameters"]


RAW_TABLES = ("characters", "sub_data", "sub_miss", "character_currency")


def committed_raw_tables(env: str | None = None) -> dict:
    """The committed sample's raw tables, loaded by the project's own catalog entries."""
    from kedro.config import OmegaConfigLoader
    from kedro.io import DataCatalog

    from kedro_ml.settings import CONFIG_LOADER_ARGS

    loader = OmegaConfigLoader(
        conf_source=str(PROJECT_ROOT / "conf"),
        **{**CONFIG_LOADER_ARGS, "default_run_env": env or "local"},
    )
    entries = {name: dict(loader["catalog"][name]) for name in RAW_TABLES}
    for entry in entries.values():
        entry["filepath"] = str(PROJECT_ROOT / entry["filepath"])
    catalog = DataCatalog.from_config(entries)
    return {name: catalog.load(name) for name in RAW_TABLES}


def parameter_feed(params: dict) -> dict:
    """``params:<key>`` entries for every key and nested key, as Kedro feeds them."""
    feed: dict = {}

    def add(prefix: str, value) -> None:
        feed[f"params:{prefix}"] = value
        if isinstance(value, dict):
            for key, inner in value.items():
                add(f"{prefix}.{key}", inner)

    for key, value in params.items():
        add(key, value)
    return feed


def memory_catalog(datasets: dict, params: dict):
    """A ``DataCatalog`` of in-memory datasets and parameters."""
    from kedro.io import DataCatalog, MemoryDataset

    catalog = DataCatalog()
    for name, data in {**datasets, **parameter_feed(params)}.items():
        catalog[name] = MemoryDataset(data, copy_mode="assign")
    return catalog


@pytest.fixture(scope="session")
def small_raw_tables():
    """Raw tables of a small synthetic game (3,000 characters, default economy)."""
    from kedro_ml.core.synthetic import generate_raw_tables

    params = load_parameters("synthesize")["synthesize"]
    return generate_raw_tables({**params, "n_characters": 3000})


def raw_datasets(tables) -> dict:
    """The raw tables of ``tables`` under their catalog names."""
    return {
        "characters": tables.characters,
        "sub_data": tables.sub_data,
        "sub_miss": tables.sub_miss,
        "character_currency": tables.character_currency,
        "sub_churn_truth": tables.sub_churn_truth,
    }


def run_in_memory(pipeline, datasets: dict, params: dict) -> dict:
    """Run ``pipeline`` on an in-memory catalog; return every dataset it read or wrote."""
    from kedro.io import MemoryDataset
    from kedro.runner import SequentialRunner

    class KeptMemoryDataset(MemoryDataset):
        """Keeps its data after the run, so tests can read intermediate outputs."""

        def _release(self) -> None:
            pass

    catalog = memory_catalog(datasets, params)
    names = {n for n in pipeline.datasets() if not n.startswith("params:")}
    for name in names - set(datasets):
        catalog[name] = KeptMemoryDataset(copy_mode="assign")
    SequentialRunner().run(pipeline, catalog)
    return {name: catalog.load(name) for name in names}


@pytest.fixture(scope="session")
def base_params() -> dict:
    """The default game's resolved parameters."""
    return project_parameters()


@pytest.fixture(scope="session")
def feature_store(small_raw_tables, base_params) -> dict:
    """Outputs of ``sub_churn_standard_features`` on the small synthetic game."""
    from kedro_ml.pipelines import sub_churn_standard_features

    return run_in_memory(
        sub_churn_standard_features.create_pipeline(),
        raw_datasets(small_raw_tables),
        base_params,
    )


@pytest.fixture(scope="session")
def trained(feature_store, base_params) -> dict:
    """Outputs of ``sub_churn_train`` on the small game's feature store."""
    from kedro_ml.pipelines import sub_churn_train

    return run_in_memory(sub_churn_train.create_pipeline(), feature_store, base_params)
