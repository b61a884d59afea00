"""Promotion decisions: beyond noise on the same rows, or not at all."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kedro_ml.core.model import ModelVersion
from kedro_ml.pipelines.sub_churn_promote.nodes import (
    compare_with_champion,
    decide_promotion,
    promotion_metrics,
    promotion_request,
)

RULE = {
    "confidence": 0.95,
    "min_gain": 0.0,
    "min_represented_share": 0.85,
    "effect_of_interest": 0.02,
}


def _comparison(difference: float, low: float, high: float) -> dict:
    return {
        "candidate_roc_auc": 0.80,
        "champion_roc_auc": 0.80 - difference,
        "roc_auc_difference": difference,
        "difference_low": low,
        "difference_high": high,
        "difference_se": (high - low) / 3.92,
        "interval_width": high - low,
        "n_rows": 1000,
        "represented_share": 1.0,
        "unrepresented_terms": {},
        "champion_model_id": "old",
        "champion_version": "3",
    }


def _decide(comparison: dict, roc_auc: float | None = 0.80) -> dict:
    return decide_promotion({"roc_auc": roc_auc, "model_id": "new"}, comparison, RULE)


def test_first_model_always_becomes_champion():
    decision = _decide({"champion_model_id": None, "champion_version": None})
    assert decision["promote"] and "no champion" in decision["reason"]


def test_promotion_needs_the_whole_interval_above_the_gain():
    assert _decide(_comparison(0.03, 0.01, 0.05))["promote"]
    # better on these rows, but within the noise
    within = _decide(_comparison(0.005, -0.008, 0.018))
    assert not within["promote"] and "not better beyond noise" in within["reason"]
    assert not _decide(_comparison(-0.02, -0.04, 0.0))["promote"]
    assert not _decide(_comparison(0.03, 0.01, 0.05), roc_auc=None)["promote"]
    strict = decide_promotion(
        {"roc_auc": 0.8, "model_id": "new"},
        _comparison(0.03, 0.01, 0.05),
        {**RULE, "min_gain": 0.02},
    )
    assert not strict["promote"]
    # rows that stand for too little of the window: not promoted, whatever the gain
    partial = _decide(
        {
            **_comparison(0.03, 0.01, 0.05),
            "represented_share": 0.6,
            "unrepresented_terms": {"3": 0.2, "6": 0.2},
        }
    )
    assert not partial["promote"] and "wait for the longer terms" in partial["reason"]


def test_the_decision_records_the_difference_and_its_interval():
    decision = _decide(_comparison(0.03, 0.01, 0.05))
    assert (
        decision["roc_auc_difference"],
        decision["difference_low"],
        decision["difference_high"],
    ) == (0.03, 0.01, 0.05)
    assert decision["confidence"] == 0.95 and decision["champion_version"] == "3"
    # the test's width and power, stated in the decision and its reason
    assert decision["interval_width"] == pytest.approx(0.04)
    assert decision["power"] == pytest.approx(
        0.5, abs=0.01
    )  # se 0.0102: 0.02 = 1.96 se
    assert decision["detectable_gain"] == pytest.approx(0.0286, abs=1e-3)
    assert "power 50% against a gain of 0.02" in decision["reason"]
    metrics = promotion_metrics(decision)
    assert metrics["power"]["value"] == decision["power"]
    assert metrics["promoted"]["value"] == 1.0
    assert metrics["difference_low"]["value"] == 0.01


def test_champion_and_candidate_are_compared_on_the_same_labelled_rows():
    class Model:
        model_id_ = "old"
        feature_names_ = ["x"]

        def predict_proba(self, rows):
            p = rows["x"].to_numpy(dtype=float)
            return np.column_stack([1 - p, p])

    features = pd.DataFrame(
        {
            "sub_id": [1, 2, 3, 4, 5],
            "x": [0.1, 0.9, 0.8, 0.2, 0.5],
            "sub_months": [1, 1, 1, 1, 6],
        }
    )
    predictions = pd.DataFrame(
        {
            "sub_id": [1, 2, 3, 4, 5],
            "sub_churn": pd.array([0, 1, 0, 1, None], dtype="Int8"),
            "sub_churn_pred": [0.1, 0.8, 0.2, 0.9, 0.5],
        }
    )
    champion = ModelVersion(
        Model(), source="models:/x@champion (version 3)", version="3"
    )
    result = compare_with_champion(champion, predictions, features, 0.95)
    assert result["n_rows"] == 4  # the unlabelled row is left out of both
    assert result["candidate_roc_auc"] == 1.0 and result["champion_roc_auc"] == 0.75
    assert result["champion_version"] == "3"
    # the settled rows are all one-month terms: they stand for 80 % of the window
    assert result["represented_share"] == 0.8
    assert result["unrepresented_terms"] == {"6": 0.2}
    assert result["window_rows"] == 5
    alone = compare_with_champion(None, predictions, features, 0.95)
    assert alone["champion_model_id"] is None and alone["roc_auc_difference"] is None


def test_the_request_names_the_candidate_and_the_champion_it_was_decided_against():
    class Model:
        model_id_ = "new"

    request = promotion_request(Model(), _decide(_comparison(0.03, 0.01, 0.05)))
    assert request["model_id"] == "new" and request["promote"] is True
    # the registry moves the champion only if it is still this version
    assert request["champion_version"] == "3"
    assert set(request) == {
        "model_id",
        "promote",
        "reason",
        "champion_version",
        "candidate_roc_auc",
    }


def test_a_model_other_than_the_scored_one_is_not_sent_to_the_registry():
    from kedro_ml.core.promotion import NotTheScoredModelError

    class Newer:
        model_id_ = "trained-after-scoring"

    decision = {
        **_decide(_comparison(0.03, 0.01, 0.05)),
        "candidate_model_id": "scored",
    }
    with pytest.raises(NotTheScoredModelError, match="trained-after-scoring"):
        promotion_request(Newer(), decision)
