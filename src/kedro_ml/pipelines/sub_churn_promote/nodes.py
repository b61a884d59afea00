"""Nodes of the promotion pipeline: candidate and champion compared on the same scored rows."""

from __future__ import annotations

import logging

import pandas as pd
from sklearn.pipeline import Pipeline

from kedro_ml.core.model import TARGET, ModelVersion, predict_proba
from kedro_ml.core.promotion import (
    check_scored_candidate,
    decide,
    detectable_gain,
    paired_auc_difference,
    power,
    term_weights,
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
    "interval_width",
    "represented_share",
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
    """The candidate's ROC-AUC minus the champion's on the labelled score rows, with its interval.

    The labelled rows are weighted by term (``sub_months``) so that they stand
    for the whole score window (``kedro_ml.core.promotion.term_weights``).
    """
    if champion is None:
        return dict.fromkeys(_NO_CHAMPION)
    labelled, rows = _labelled_rows(score_predictions, score_features)
    weights, represented, missing = term_weights(
        score_features["sub_months"].to_numpy(), rows["sub_months"].to_numpy()
    )
    comparison = paired_auc_difference(
        labelled[TARGET].to_numpy(dtype=int),
        labelled["sub_churn_pred"].to_numpy(dtype=float),
        predict_proba(champion.model, rows),
        confidence,
        weights=weights,
    )
    return {
        **comparison,
        "window_rows": int(len(score_features)),
        "represented_share": round(represented, 4),
        "unrepresented_terms": {str(k): round(v, 4) for k, v in missing.items()},
        "weighting": "settled rows weighted by term to the score window's mix",
        "champion_model_id": champion.model_id,
        "champion_version": champion.version,
        "champion_source": champion.source,
    }


def decide_promotion(score_metrics: dict, comparison: dict, promotion: dict) -> dict:
    """Promote when there is no champion, or the candidate is better by more than noise.

    Better by more than noise: the settled rows stand for at least
    ``promotion.min_represented_share`` of the score window, and the lower end
    of the ``promotion.confidence`` interval of the ROC-AUC difference is above
    ``promotion.min_gain``. The decision states the interval's width and the
    test's power against a candidate better by ``promotion.effect_of_interest``.
    """
    confidence = float(promotion["confidence"])
    min_gain = float(promotion["min_gain"])
    min_share = float(promotion["min_represented_share"])
    effect = float(promotion["effect_of_interest"])
    has_champion = comparison["champion_model_id"] is not None
    promote, reason = decide(
        score_metrics["roc_auc"],
        comparison if has_champion else None,
        confidence,
        min_gain,
        min_share,
    )
    test = {}
    if has_champion:
        se = float(comparison["difference_se"])
        test = {
            "power": round(power(se, confidence, min_gain, effect), 4),
            "detectable_gain": round(detectable_gain(se, confidence, min_gain), 4),
        }
        reason += (
            f"; interval width {comparison['interval_width']:.4f}, power "
            f"{test['power']:.0%} against a gain of {effect}, on "
            f"{comparison['n_rows']} settled rows standing for "
            f"{comparison['represented_share']:.0%} of the window"
        )
    logger.info("Promotion: %s (%s)", "yes" if promote else "no", reason)
    return {
        "candidate_model_id": score_metrics.get("model_id"),
        "candidate_roc_auc": score_metrics["roc_auc"],
        "min_gain": min_gain,
        "confidence": confidence,
        "min_represented_share": min_share,
        "effect_of_interest": effect,
        "method": (
            "paired DeLong interval of the ROC-AUC difference, same scored rows, "
            "weighted by term to the score window"
        ),
        **comparison,
        **test,
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
        "interval_width",
        "power",
        "represented_share",
    ):
        if decision.get(key) is not None:
            figures[key] = decision[key]
    return {key: {"value": float(value), "step": 0} for key, value in figures.items()}
