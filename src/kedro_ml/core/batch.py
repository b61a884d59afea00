"""Batch prediction: a champion's churn probabilities for a batch of subscriptions.

The batch prediction node calls it on the whole batch; its Spark twin on each
partition (``kedro_ml.spark.nodes``).
"""

from __future__ import annotations

import logging

import pandas as pd

from kedro_ml.core.model import ModelVersion, predict_proba

logger = logging.getLogger(__name__)

BATCH_COLUMNS = [
    "char_id",
    "sub_id",
    "sub_start_date",
    "sub_churn_pred",
    "model_id",
    "model_source",
]


def batch_predictions(
    champion: ModelVersion, batch_features: pd.DataFrame
) -> pd.DataFrame:
    """Churn probabilities of the rows, with the identity and source of the model used."""
    if batch_features.empty:
        return batch_features.reindex(columns=BATCH_COLUMNS)
    predictions = batch_features.assign(
        sub_churn_pred=predict_proba(champion.model, batch_features),
        model_id=champion.model_id,
        model_source=champion.source,
    )
    return (
        predictions[BATCH_COLUMNS]
        .sort_values("sub_id", kind="stable")
        .reset_index(drop=True)
    )


def log_batch_prediction(n_rows: int | None, champion: ModelVersion) -> None:
    """Say which model predicts the batch (and how many rows, where known up front)."""
    rows = "" if n_rows is None else f" of {n_rows} subscriptions"
    logger.info(
        "Batch prediction%s with model %s from %s",
        rows,
        champion.model_id,
        champion.source,
    )
