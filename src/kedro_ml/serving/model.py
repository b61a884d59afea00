"""``ChurnModel``: churn probabilities from the fitted sklearn Pipeline it wraps.

It takes rows of a feature table (the point-in-time features that
``kedro_ml.core.features`` computes for batch prediction) and answers, per
row, ``sub_id`` and ``sub_churn_pred``, the churn probability: the same
function batch prediction calls, so the served and batch answers are equal.
Rows outside the data contract are refused (``RequestError``, an MLflow
``INVALID_PARAMETER_VALUE``: HTTP 400), naming the column and the row.
"""

from __future__ import annotations

import os
from typing import Any

import mlflow.pyfunc
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

from kedro_ml.core.model import predict_proba
from kedro_ml.core.persistence import load_file
from kedro_ml.serving.inputs import RequestError, check_feature_rows

# The artifact that holds the fitted sklearn Pipeline, in skops format.
MODEL_ARTIFACT = "sklearn_model"
# At most this many rows per request (``KEDRO_ML_MAX_ROWS`` sets another).
MAX_ROWS_ENV = "KEDRO_ML_MAX_ROWS"
DEFAULT_MAX_ROWS = 10_000


def max_rows() -> int:
    """The most rows a request may hold."""
    try:
        return max(1, int(os.environ.get(MAX_ROWS_ENV, DEFAULT_MAX_ROWS)))
    except ValueError:
        return DEFAULT_MAX_ROWS


class ChurnModel(mlflow.pyfunc.PythonModel):
    """Churn probabilities for feature rows, from a skops-saved sklearn Pipeline."""

    def load_context(self, context: Any) -> None:
        self.model = load_file(context.artifacts[MODEL_ARTIFACT])

    def answer(self, rows: pd.DataFrame) -> pd.DataFrame:
        """``sub_id`` and ``sub_churn_pred`` for feature rows; ``RequestError`` when they break the contract."""
        check_feature_rows(rows, self.model, max_rows())
        return pd.DataFrame(
            {
                "sub_id": rows["sub_id"].to_numpy(dtype="int64"),
                "sub_churn_pred": predict_proba(self.model, rows),
            }
        )

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict | None = None
    ) -> pd.DataFrame:
        """``sub_id`` and the churn probability ``sub_churn_pred`` of each feature row."""
        try:
            return self.answer(model_input)
        except RequestError as error:
            raise MlflowException(
                str(error), error_code=INVALID_PARAMETER_VALUE
            ) from None
