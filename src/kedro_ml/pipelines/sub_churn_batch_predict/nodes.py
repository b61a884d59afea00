"""Nodes of the batch prediction pipeline."""

from __future__ import annotations

import pandas as pd
from sklearn.pipeline import Pipeline

from kedro_ml.model import predict_proba

BATCH_COLUMNS = ["char_id", "sub_id", "sub_start_date", "sub_churn_pred", "model_id"]


def predict_batch(model: Pipeline, batch_features: pd.DataFrame) -> pd.DataFrame:
    """Churn probabilities for the batch window, with the identity of the model used."""
    predictions = batch_features.assign(
        sub_churn_pred=predict_proba(model, batch_features), model_id=model.model_id_
    )
    return (
        predictions[BATCH_COLUMNS]
        .sort_values("sub_id", kind="stable")
        .reset_index(drop=True)
    )
