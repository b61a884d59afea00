"""Nodes of the training pipeline: fit the configured model, report in-sample scores."""

from __future__ import annotations

import logging

import pandas as pd
from sklearn.pipeline import Pipeline

from kedro_ml.core.model import (
    TARGET,
    build_model,
    build_search,
    model_id,
    predict_proba,
    split_xy,
    with_seed,
)
from kedro_ml.core.reporting import evaluate_predictions, score_report
from kedro_ml.core.seeding import log_seed
from kedro_ml.serving.inputs import model_input_example

logger = logging.getLogger(__name__)


def _labelled(features: pd.DataFrame) -> pd.DataFrame:
    labelled = features[features[TARGET].notna()].reset_index(drop=True)
    logger.info(
        "%d labelled subscriptions, %d censored left out",
        len(labelled),
        len(features) - len(labelled),
    )
    if labelled[TARGET].nunique() < 2:
        raise ValueError(
            f"the training window holds {len(labelled)} labelled subscriptions of a single class; "
            "widen train.window or move it earlier so churned and kept subscriptions are both known"
        )
    return labelled.sort_values("sub_start_date", kind="stable").reset_index(drop=True)


@log_seed
def train_model(
    train_features: pd.DataFrame, model: dict, seed: int | None
) -> Pipeline:
    """The configured sklearn Pipeline fitted on the labelled training window."""
    labelled = _labelled(train_features)
    x, y = split_xy(labelled)
    estimator = with_seed(build_model(model, list(x.columns)), seed)
    search = model.get("search")
    if search:
        searcher = build_search(estimator, search, seed).fit(x, y)
        logger.info(
            "Best %s %.4f with %s",
            searcher.scoring,
            searcher.best_score_,
            searcher.best_params_,
        )
        fitted = searcher.best_estimator_
    else:
        fitted = estimator.fit(x, y)
    fitted.model_id_ = model_id(model, seed, labelled)
    fitted.seed_ = seed
    # the columns the model reads, in the order of its feature groups
    fitted.feature_names_ = [
        c for _, _, cols in fitted.named_steps["preprocess"].transformers for c in cols
    ]
    logger.info("Trained model %s on %d subscriptions", fitted.model_id_, len(labelled))
    return fitted


def in_sample_report(
    model: Pipeline, train_features: pd.DataFrame, threshold: float, game: str
) -> tuple[str, dict]:
    """The in-sample score report and metrics of the fitted model."""
    predictions = train_features.assign(
        sub_churn_pred=predict_proba(model, train_features)
    )
    metrics, new_character = evaluate_predictions(predictions, threshold)
    metrics["model_id"] = model.model_id_
    return score_report("In-sample score report", game, metrics, new_character), metrics


def model_for_tracking(model: Pipeline, train_features: pd.DataFrame) -> dict:
    """The fitted model with a few rows of its input, as the served model takes them."""
    return {"model": model, "input_example": model_input_example(model, train_features)}


def training_tags(model: Pipeline) -> dict[str, str]:
    """Tags for the training run: the seed used (drawn or given) and the model's identity."""
    return {"seed": str(model.seed_), "model_id": model.model_id_}
