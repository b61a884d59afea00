"""Nodes of the promotion pipeline: champion and candidate compared on the same window."""

from __future__ import annotations

import logging

import pandas as pd
from sklearn.pipeline import Pipeline

from kedro_ml.core.model import TARGET, ModelVersion, predict_proba
from kedro_ml.core.reporting import roc_auc_or_none

logger = logging.getLogger(__name__)


def score_champion(champion: ModelVersion | None, score_features: pd.DataFrame) -> dict:
    """The current champion's ROC-AUC on the labelled score window (None without a champion)."""
    if champion is None:
        return {"roc_auc": None, "model_id": None, "source": None, "version": None}
    labelled = score_features[score_features[TARGET].notna()]
    auc = roc_auc_or_none(
        labelled[TARGET].to_numpy(dtype=int), predict_proba(champion.model, labelled)
    )
    return {
        "roc_auc": auc,
        "model_id": champion.model_id,
        "source": champion.source,
        "version": champion.version,
    }


def decide_promotion(
    score_metrics: dict, champion_score: dict, promotion: dict
) -> dict:
    """Promote when there is no champion, or the candidate beats it by ``promotion.margin``."""
    candidate, champion, margin = (
        score_metrics["roc_auc"],
        champion_score["roc_auc"],
        float(promotion["margin"]),
    )
    if candidate is None:
        promote, reason = (
            False,
            "the candidate has no ROC-AUC on the score window (one class only)",
        )
    elif champion is None:
        promote, reason = True, "there is no champion yet"
    elif candidate >= champion + margin:
        promote, reason = (
            True,
            f"candidate {candidate:.4f} beats champion {champion:.4f} by at least {margin}",
        )
    else:
        promote, reason = (
            False,
            f"candidate {candidate:.4f} does not beat champion {champion:.4f} by {margin}",
        )
    logger.info("Promotion: %s (%s)", "yes" if promote else "no", reason)
    return {
        "promote": promote,
        "reason": reason,
        "candidate_roc_auc": candidate,
        "champion_roc_auc": champion,
        "margin": margin,
        "candidate_model_id": score_metrics.get("model_id"),
        "champion_model_id": champion_score["model_id"],
        "champion_version": champion_score["version"],
    }


def promotion_request(model: Pipeline, decision: dict) -> dict:
    """What the registry needs: which logged model, whether it becomes champion, against which."""
    return {
        "model_id": model.model_id_,
        "promote": decision["promote"],
        "champion_version": decision["champion_version"],
        "tags": {
            "candidate_roc_auc": decision["candidate_roc_auc"],
            "promoted": decision["promote"],
        },
    }


def promotion_metrics(decision: dict) -> dict:
    """The decision's figures as MLflow metrics (``promoted`` is 1 or 0)."""
    figures = {"promoted": float(decision["promote"])}
    for key in ("candidate_roc_auc", "champion_roc_auc"):
        if decision[key] is not None:
            figures[key] = decision[key]
    return {key: {"value": value, "step": 0} for key, value in figures.items()}
