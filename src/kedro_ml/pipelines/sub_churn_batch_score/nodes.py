"""Nodes of the batch scoring pipeline: a batch's predictions against later actuals."""

from __future__ import annotations

import logging

import pandas as pd

from kedro_ml.core.reporting import evaluate_predictions, oracle_roc_auc, score_report

logger = logging.getLogger(__name__)


def score_batch(
    batch_predictions: pd.DataFrame,
    sub_churn_labels: pd.DataFrame,
    subscription_features: pd.DataFrame,
    sub_churn_truth: pd.DataFrame,
    threshold: float,
    game: str,
) -> tuple[dict, str]:
    """Metrics of a batch over the subscriptions whose outcome is now known, and the report."""
    joined = batch_predictions.merge(
        sub_churn_labels[["sub_id", "sub_churn", "label_state"]],
        on="sub_id",
        how="left",
        validate="one_to_one",
    ).merge(
        subscription_features[["sub_id", "is_first_sub"]],
        on="sub_id",
        how="left",
        validate="one_to_one",
    )
    metrics, new_character = evaluate_predictions(joined, threshold)
    metrics["oracle_roc_auc"] = oracle_roc_auc(joined, sub_churn_truth)
    metrics["n_predicted"] = len(batch_predictions)
    metrics["model_id"] = str(batch_predictions["model_id"].iloc[0])
    logger.info(
        "Batch of %d predictions: %d scored; left out: %d not settled yet, %d without a term",
        len(batch_predictions),
        metrics["n_scored"],
        metrics["n_unsettled_excluded"],
        metrics["n_no_term_excluded"],
    )
    return metrics, score_report("Batch score report", game, metrics, new_character)
