"""Values a node resolves at run time, written to the active MLflow run (save only)."""

from __future__ import annotations

from typing import Any

import mlflow
from kedro.io import AbstractDataset, DatasetError


def require_active_run(what: str) -> None:
    """Stop with what to do when no MLflow run is active."""
    if mlflow.active_run() is None:
        raise DatasetError(
            f"{what} needs an active MLflow run: run the pipeline through `kedro run` "
            "with kedro-mlflow tracking enabled"
        )


class MlflowTagsDataset(AbstractDataset):
    """Sets tags on the active MLflow run (save only): ``save`` takes ``{tag: value}``."""

    def __init__(self, *, metadata: dict | None = None):
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {}

    def load(self) -> Any:
        raise DatasetError("MlflowTagsDataset only sets tags on the active run")

    def save(self, data: dict[str, Any]) -> None:
        require_active_run("Tagging the run")
        mlflow.set_tags({key: str(value) for key, value in data.items()})


class MlflowParamsDataset(AbstractDataset):
    """Logs parameters of the active MLflow run (save only): ``save`` takes ``{name: value}``.

    For values a node resolves at run time (a default date, a count), which
    kedro-mlflow's parameter logging cannot see.
    """

    def __init__(self, *, metadata: dict | None = None):
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {}

    def load(self) -> Any:
        raise DatasetError("MlflowParamsDataset only logs parameters of the active run")

    def save(self, data: dict[str, Any]) -> None:
        require_active_run("Logging parameters")
        mlflow.log_params({key: str(value) for key, value in data.items()})
