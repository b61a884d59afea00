"""Project datasets that kedro-datasets and kedro-mlflow do not provide."""

from __future__ import annotations

import logging
import pickle
import tempfile
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from kedro.io import AbstractDataset, DatasetError
from kedro_datasets.pandas import CSVDataset
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from kedro_ml.serving import ChurnModel, model_input_example, signature_for

logger = logging.getLogger(__name__)


class OptionalCSVDataset(CSVDataset):
    """A ``pandas.CSVDataset`` that loads an empty frame when its file does not exist.

    For side inputs that only some data sets have, such as the generator's true
    churn probabilities: real exports come without them and the run goes on.
    """

    def __init__(self, *, columns: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._columns = list(columns)

    def load(self) -> pd.DataFrame:
        if not self._exists():
            return pd.DataFrame(
                {column: pd.Series(dtype="float64") for column in self._columns}
            )
        return super().load()


def _log_churn_model(
    model: Any,
    features: pd.DataFrame,
    artifact_path: str,
    registered_model_name: str | None,
):
    """Log ``model`` as a ``ChurnModel`` pyfunc in the active run; return its ModelInfo."""
    example = model_input_example(model, features)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sklearn_model.pkl"
        path.write_bytes(pickle.dumps(model))
        return mlflow.pyfunc.log_model(
            name=artifact_path,
            python_model=ChurnModel(),
            artifacts={"sklearn_model": str(path)},
            input_example=example,
            signature=signature_for(model, example),
            registered_model_name=registered_model_name,
        )


class MlflowChurnModelDataset(AbstractDataset):
    """The churn model in MLflow: logged with each run, registered and promoted.

    ``save`` takes ``{"model": fitted Pipeline, "features": a feature table}``
    (plus ``"promote": bool`` when ``register`` is true) and logs the model as a
    ``ChurnModel`` pyfunc with an input example and signature in the active
    run. With ``register``, it also becomes a new version of
    ``registered_model_name``, and receives ``alias`` when ``promote`` is true.
    ``load`` returns the sklearn Pipeline behind ``models:/<name>@<alias>``, or
    None when there is none yet.
    """

    def __init__(
        self,
        *,
        registered_model_name: str,
        alias: str = "champion",
        artifact_path: str = "model",
        register: bool = False,
        metadata: dict | None = None,
    ) -> None:
        self._name = registered_model_name
        self._alias = alias
        self._artifact_path = artifact_path
        self._register = register
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {
            "registered_model_name": self._name,
            "alias": self._alias,
            "register": self._register,
        }

    @property
    def uri(self) -> str:
        return f"models:/{self._name}@{self._alias}"

    def load(self) -> Any:
        try:
            version = MlflowClient().get_model_version_by_alias(self._name, self._alias)
        except MlflowException:
            logger.info("No %s yet: %s is not set", self._alias, self.uri)
            return None
        pyfunc = mlflow.pyfunc.load_model(self.uri)
        model = pyfunc.unwrap_python_model().model
        model.source_ = f"{self.uri} (version {version.version})"
        return model

    def save(self, data: dict[str, Any]) -> None:
        if mlflow.active_run() is None:
            raise DatasetError(
                f"logging the model for {self._name} needs an active MLflow run; "
                "run the pipeline through `kedro run` with kedro-mlflow enabled"
            )
        info = _log_churn_model(
            data["model"],
            data["features"],
            self._artifact_path,
            self._name if self._register else None,
        )
        if self._register and data.get("promote"):
            MlflowClient().set_registered_model_alias(
                self._name, self._alias, info.registered_model_version
            )
            logger.info("%s is now version %s", self.uri, info.registered_model_version)

    def _exists(self) -> bool:
        try:
            MlflowClient().get_model_version_by_alias(self._name, self._alias)
        except MlflowException:
            return False
        return True
