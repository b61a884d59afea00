"""Nodes of the batch scoring pipeline: a batch's predictions against later actuals."""

from __future__ import annotations

import logging

import pandas as pd

from kedro_ml.core.reporting import batch_metrics, score_report

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
    metrics, new_character = batch_metrics(
        batch_predictions,
        sub_churn_labels,
        subscription_features,
        sub_churn_truth,
        threshold,
    )
    logger.info(
        "Batch of %d predictions: %d scored; left out: %d not settled yet, %d without a term",
        len(batch_predictions),
        metrics["n_scored"],
        metrics["n_unsettled_excluded"],
        metrics["n_no_term_excluded"],
    )
    return metrics, score_report("Batch score report", game, metrics, new_character)
