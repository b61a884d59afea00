"""Nodes of the batch prediction pipeline.

Given Spark DataFrames (``--env=spark_env``), each node runs on Spark: the
same function per bucket of characters (``kedro_ml.spark.nodes``).
"""

from __future__ import annotations

import logging

import pandas as pd

from kedro_ml.core.model import ModelVersion, predict_proba
from kedro_ml.spark import runs_on_spark

logger = logging.getLogger(__name__)

BATCH_COLUMNS = [
    "char_id",
    "sub_id",
    "sub_start_date",
    "sub_churn_pred",
    "model_id",
    "model_source",
]


@runs_on_spark
def predict_batch(champion: ModelVersion, batch_features: pd.DataFrame) -> pd.DataFrame:
    """Churn probabilities for the batch window, with the identity and source of the model used."""
    logger.info(
        "Batch prediction of %d subscriptions with model %s from %s",
        len(batch_features),
        champion.model_id,
        champion.source,
    )
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
