"""The served churn model: an MLflow pyfunc around the fitted sklearn Pipeline.

It takes rows of a feature table (the point-in-time features that
``kedro_ml.features`` computes for batch prediction) and answers, per row,
``sub_id`` and ``sub_churn_pred``, the churn probability: the same function
batch prediction calls, so the served and batch answers are equal.
"""

from __future__ import annotations

import pickle
import warnings
from importlib.metadata import version
from typing import Any

import mlflow
import pandas as pd
from mlflow.models import infer_signature

from kedro_ml.model import predict_proba

# What loading and calling the model imports. Listing it saves MLflow from
# inferring it, which loads the model in a subprocess (seconds per model).
RUNTIME_DISTRIBUTIONS = (
    "mlflow",
    "cloudpickle",
    "numpy",
    "pandas",
    "scikit-learn",
    "scipy",
)


def pip_requirements() -> list[str]:
    """The served model's requirements, pinned to the versions installed here."""
    return [f"{name}=={version(name)}" for name in RUNTIME_DISTRIBUTIONS]


class ChurnModel(mlflow.pyfunc.PythonModel):
    """Churn probabilities for feature rows, from a pickled sklearn Pipeline artifact."""

    def load_context(self, context: Any) -> None:
        with open(context.artifacts["sklearn_model"], "rb") as f:
            self.model = pickle.load(f)  # noqa: S301 - our own artifact

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict | None = None
    ) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "sub_id": model_input["sub_id"].to_numpy(),
                "sub_churn_pred": predict_proba(self.model, model_input),
            }
        )


def model_input_example(
    model: Any, features: pd.DataFrame, rows: int = 5
) -> pd.DataFrame:
    """A few rows with exactly the columns the model reads (plus ``sub_id``), JSON-friendly."""
    columns = ["sub_id", *model.feature_names_]
    example = features[columns].head(rows).copy()
    for column in example.select_dtypes(include=["category"]).columns:
        example[column] = example[column].astype(str)
    # numbers arrive as JSON doubles, and integer features may be missing: declare doubles
    numeric = example.select_dtypes(include=["number"]).columns.drop(
        "sub_id", errors="ignore"
    )
    example[numeric] = example[numeric].astype("float64")
    return example.reset_index(drop=True)


def signature_for(model: Any, example: pd.DataFrame):
    """The MLflow signature of ``ChurnModel`` for inputs like ``example``."""
    output = pd.DataFrame(
        {"sub_id": example["sub_id"], "sub_churn_pred": predict_proba(model, example)}
    )
    with warnings.catch_warnings():
        # the hint about integer columns concerns sub_id only, which is never missing
        warnings.filterwarnings(
            "ignore",
            message=".*Inferred schema contains integer column",
            category=UserWarning,
        )
        return infer_signature(example, output)
