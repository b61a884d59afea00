"""Nodes of the batch prediction pipeline."""

from __future__ import annotations

import logging

import pandas as pd
from sklearn.pipeline import Pipeline

from kedro_ml.model import predict_proba

logger = logging.getLogger(__name__)

BATCH_COLUMNS = [
    "char_id",
    "sub_id",
    "sub_start_date",
    "sub_churn_pred",
    "model_id",
    "model_source",
]
MODEL_SOURCES = ("local", "registry")


def choose_model(
    local_model: Pipeline, champion_model: Pipeline | None, model_source: str
) -> Pipeline:
    """The model ``batch_predict.model_source`` names: the latest local one or the champion."""
    if model_source not in MODEL_SOURCES:
        raise ValueError(
            f"batch_predict.model_source must be one of {list(MODEL_SOURCES)}, got '{model_source}'"
        )
    if model_source == "local":
        return local_model
    if champion_model is None:
        raise ValueError(
            "batch_predict.model_source is 'registry' but the registry has no champion yet: "
            "run `kedro run -p sub_churn_score_from_raw` first, or use model_source local"
        )
    return champion_model


def predict_batch(
    local_model: Pipeline,
    champion_model: Pipeline | None,
    batch_features: pd.DataFrame,
    model_source: str,
) -> pd.DataFrame:
    """Churn probabilities for the batch window, with the identity and source of the model used."""
    model = choose_model(local_model, champion_model, model_source)
    source = getattr(model, "source_", None) if model_source == "registry" else "local"
    logger.info("Batch prediction with model %s from %s", model.model_id_, source)
    predictions = batch_features.assign(
        sub_churn_pred=predict_proba(model, batch_features),
        model_id=model.model_id_,
        model_source=source,
    )
    return (
        predictions[BATCH_COLUMNS]
        .sort_values("sub_id", kind="stable")
        .reset_index(drop=True)
    )
