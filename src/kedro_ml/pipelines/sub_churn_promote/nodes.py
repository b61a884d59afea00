"""Nodes of the promotion pipeline: candidate and champion compared on the same scored rows."""

from __future__ import annotations

import logging

import pandas as pd
from sklearn.pipeline import Pipeline

from kedro_ml.core.model import TARGET, ModelVersion, predict_proba
from kedro_ml.core.promotion import (
    check_scored_candidate,
    decide,
    paired_auc_difference,
)

logger = logging.getLogger(__name__)

# what the decision records when there is no champion to compare with
_NO_CHAMPION = (
    "champion_model_id",
    "champion_version",
    "champion_roc_auc",
    "roc_auc_difference",
    "difference_low",
    "difference_high",
)


def _labelled_rows(
    score_predictions: pd.DataFrame, score_features: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    labelled = score_predictions[score_predictions[TARGET].notna()]
    rows = score_features.set_index("sub_id").loc[labelled["sub_id"]].reset_index()
    return labelled, rows


def compare_with_champion(
    champion: ModelVersion | None,
    score_predictions: pd.DataFrame,
    score_features: pd.DataFrame,
    confidence: float,
) -> dict:
    """The candidate's ROC-AUC minus the champion's on the labelled score rows, with its interval."""
    if champion is None:
        return dict.fromkeys(_NO_CHAMPION)
    labelled, rows = _labelled_rows(score_predictions, score_features)
    comparison = paired_auc_difference(
        labelled[TARGET].to_numpy(dtype=int),
        labelled["sub_churn_pred"].to_numpy(dtype=float),
        predict_proba(champion.model, rows),
        confidence,
    )
    return {
        **comparison,
        "champion_model_id": champion.model_id,
        "champion_version": champion.version,
        "champion_source": champion.source,
    }


def decide_promotion(score_metrics: dict, comparison: dict, promotion: dict) -> dict:
    """Promote when there is no champion, or the candidate is better by more than noise.

    Better by more than noise: the lower end of the ``promotion.confidence``
    interval of the ROC-AUC difference is above ``promotion.min_gain``.
    """
    promote, reason = decide(
        score_metrics["roc_auc"],
        None if comparison["champion_model_id"] is None else comparison,
        float(promotion["confidence"]),
        float(promotion["min_gain"]),
    )
    logger.info("Promotion: %s (%s)", "yes" if promote else "no", reason)
    return {
        "candidate_model_id": score_metrics.get("model_id"),
        "candidate_roc_auc": score_metrics["roc_auc"],
        "min_gain": float(promotion["min_gain"]),
        "confidence": float(promotion["confidence"]),
        "method": "paired DeLong interval of the ROC-AUC difference, same scored rows",
        **comparison,
        "promote": promote,
        "reason": reason,
    }


def promotion_request(model: Pipeline, decision: dict) -> dict:
    """What the registry carries out: which model, the decision, and the champion it was made against.

    The registry moves the champion only if it is still that version; if
    another promotion moved it meanwhile, it stops and this pipeline is run
    again to decide against the new champion. The model must be the one the
    decision's scores are of (``check_scored_candidate``).
    """
    check_scored_candidate(model.model_id_, decision["candidate_model_id"])
    return {
        "model_id": model.model_id_,
        "promote": decision["promote"],
        "reason": decision["reason"],
        "champion_version": decision["champion_version"],
        "candidate_roc_auc": decision["candidate_roc_auc"],
    }


def promotion_metrics(decision: dict) -> dict:
    """The decision's figures as MLflow metrics (``promoted`` is 1 or 0)."""
    figures = {"promoted": float(decision["promote"])}
    for key in (
        "candidate_roc_auc",
        "champion_roc_auc",
        "roc_auc_difference",
        "difference_low",
        "difference_high",
    ):
        if decision.get(key) is not None:
            figures[key] = decision[key]
    return {key: {"value": float(value), "step": 0} for key, value in figures.items()}
