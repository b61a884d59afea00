"""Nodes of the scoring pipeline: out-of-time predictions, metrics, report and plots."""

from __future__ import annotations

import logging

import pandas as pd
from matplotlib.figure import Figure
from sklearn.pipeline import Pipeline

from kedro_ml.core.importance import permutation_importance
from kedro_ml.core.model import TARGET, predict_proba
from kedro_ml.core.reporting import (
    calibration_figure,
    calibration_with_noise,
    evaluate_predictions,
    importance_figure,
    oracle_roc_auc,
    pr_figure,
    roc_figure,
    score_report,
)

logger = logging.getLogger(__name__)

PREDICTION_COLUMNS = [
    "sub_id",
    "char_id",
    "sub_start_date",
    "is_first_sub",
    TARGET,
    "label_state",
    "sub_churn_pred",
]


def predict_scores(model: Pipeline, score_features: pd.DataFrame) -> pd.DataFrame:
    """Predictions next to actuals for every subscription of the score window."""
    predictions = score_features.assign(
        sub_churn_pred=predict_proba(model, score_features)
    )
    return predictions[PREDICTION_COLUMNS].assign(model_id=model.model_id_)


def evaluate_scores(
    score_predictions: pd.DataFrame,
    sub_churn_truth: pd.DataFrame,
    threshold: float,
    game: str,
) -> tuple[dict, str]:
    """Out-of-time metrics (with the oracle's ROC-AUC when known) and the text report."""
    metrics, new_character = evaluate_predictions(score_predictions, threshold)
    metrics["oracle_roc_auc"] = oracle_roc_auc(score_predictions, sub_churn_truth)
    metrics.update(calibration_with_noise(score_predictions, sub_churn_truth))
    metrics["model_id"] = str(score_predictions["model_id"].iloc[0])
    logger.info(
        "Out-of-time ROC-AUC %s (oracle %s) on %d subscriptions; left out: %d not settled, "
        "%d without a term",
        metrics["roc_auc"],
        metrics["oracle_roc_auc"],
        metrics["n_scored"],
        metrics["n_unsettled_excluded"],
        metrics["n_no_term_excluded"],
    )
    return metrics, score_report("Score report", game, metrics, new_character)


def _labelled(predictions: pd.DataFrame) -> tuple:
    labelled = predictions[predictions[TARGET].notna()]
    return labelled[TARGET].to_numpy(dtype=int), labelled["sub_churn_pred"].to_numpy(
        dtype=float
    )


def plot_roc(score_predictions: pd.DataFrame) -> Figure:
    """ROC curve of the score window."""
    return roc_figure(*_labelled(score_predictions), "ROC, score window")


def plot_precision_recall(score_predictions: pd.DataFrame) -> Figure:
    """Precision-recall curve of the score window."""
    return pr_figure(*_labelled(score_predictions), "Precision-recall, score window")


def plot_calibration(score_predictions: pd.DataFrame) -> Figure:
    """Calibration curve of the score window."""
    return calibration_figure(
        *_labelled(score_predictions), "Calibration, score window"
    )


def compute_feature_importance(
    model: Pipeline, score_features: pd.DataFrame, importance: dict
) -> tuple[pd.DataFrame, Figure]:
    """Permutation importance of each model input on the labelled score window."""
    labelled = score_features[score_features[TARGET].notna()]
    sample = labelled.sample(
        n=min(len(labelled), int(importance["max_rows"])),
        random_state=importance["seed"],
    )
    columns = list(model.feature_names_)
    result = permutation_importance(
        model,
        sample[columns],
        sample[TARGET].to_numpy(dtype=int),
        n_repeats=int(importance["n_repeats"]),
        random_state=importance["seed"],
    )
    table = pd.DataFrame(
        {
            "feature": columns,
            "importance_mean": result.importances_mean,
            "importance_std": result.importances_std,
        }
    ).sort_values("importance_mean", ascending=False, kind="stable")
    return table.reset_index(drop=True), importance_figure(
        table, "Permutation importance, score window"
    )
