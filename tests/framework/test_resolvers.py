"""Configuration resolvers: a path under the project, and no local artifact path for a server."""

from __future__ import annotations

from pathlib import Path

import pytest

from kedro_ml.framework.resolvers import (
    artifact_location,
    is_tracking_server,
    project_path,
    use_project,
)


@pytest.fixture
def project(tmp_path):
    use_project(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    "uri",
    [
        "http://127.0.0.1:5080",
        "https://mlflow.example.org",
        "HTTP://host:1",
        "databricks",
        "databricks://profile",
        "databricks-uc",
    ],
)
def test_a_server_keeps_artifacts_in_its_own_store(project, uri):
    assert is_tracking_server(uri)
    assert artifact_location(uri, "mlruns/game1") is None


@pytest.mark.parametrize(
    "uri",
    [
        "sqlite:////tmp/x/mlflow.db",
        "file:///tmp/mlruns",
        "/tmp/mlruns",
        "http",
        "",
        None,
    ],
)
def test_a_local_store_keeps_artifacts_under_the_project(project, uri):
    assert not is_tracking_server(uri)
    assert artifact_location(uri, "mlruns/game1") == str(project / "mlruns" / "game1")


def test_project_path_is_under_the_project(project):
    assert Path(project_path("mlflow.db")) == project / "mlflow.db"


def test_the_mlflow_config_follows_the_tracking_uri(project, monkeypatch):
    """conf/base/mlflow.yml: no local artifact path once MLFLOW_TRACKING_URI names a server."""
    from kedro.config import OmegaConfigLoader

    from kedro_ml import settings
    from tests.conftest import PROJECT_ROOT

    def location() -> str | None:
        loader = OmegaConfigLoader(
            conf_source=str(PROJECT_ROOT / "conf"), **settings.CONFIG_LOADER_ARGS
        )
        experiment = loader["mlflow"]["tracking"]["experiment"]
        return experiment["create_experiment_kwargs"]["artifact_location"]

    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5080")
    assert location() is None
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    assert location() == str(project / "mlruns" / "game1")
