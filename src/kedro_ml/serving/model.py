"""``ChurnModel``: churn probabilities from the fitted sklearn Pipeline it wraps.

It takes rows of a feature table (the point-in-time features that
``kedro_ml.core.features`` computes for batch prediction) and answers, per
row, ``sub_id`` and ``sub_churn_pred``, the churn probability: the same
function batch prediction calls, so the served and batch answers are equal.
"""

from __future__ import annotations

from typing import Any

import mlflow.pyfunc
import pandas as pd

from kedro_ml.core.model import predict_proba
from kedro_ml.core.persistence import load_file

# The artifact that holds the fitted sklearn Pipeline, in skops format.
MODEL_ARTIFACT = "sklearn_model"


class ChurnModel(mlflow.pyfunc.PythonModel):
    """Churn probabilities for feature rows, from a skops-saved sklearn Pipeline."""

    def load_context(self, context: Any) -> None:
        self.model = load_file(context.artifacts[MODEL_ARTIFACT])

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict | None = None
    ) -> pd.DataFrame:
        """``sub_id`` and the churn probability ``sub_churn_pred`` of each feature row."""
        return pd.DataFrame(
            {
                "sub_id": model_input["sub_id"].to_numpy(),
                "sub_churn_pred": predict_proba(self.model, model_input),
            }
        )
