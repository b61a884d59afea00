"""Promotion decisions on hand-set figures."""

from __future__ import annotations

import pandas as pd

from kedro_ml.pipelines.sub_churn_promote.nodes import (
    decide_promotion,
    promotion_metrics,
    promotion_request,
    score_champion,
)

MARGIN = {"margin": 0.01}


def _decide(candidate, champion):
    return decide_promotion(
        {"roc_auc": candidate, "model_id": "new"},
        {"roc_auc": champion, "model_id": "old", "version": "3"},
        MARGIN,
    )


def test_first_model_always_becomes_champion():
    decision = decide_promotion(
        {"roc_auc": 0.6, "model_id": "new"},
        {"roc_auc": None, "model_id": None, "version": None},
        MARGIN,
    )
    assert decision["promote"] and "no champion" in decision["reason"]


def test_candidate_must_beat_the_champion_by_the_margin():
    assert _decide(0.80, 0.78)["promote"]
    assert not _decide(0.785, 0.78)["promote"]  # better, but by less than the margin
    assert not _decide(0.70, 0.78)["promote"]
    assert not _decide(None, 0.78)["promote"]


def test_decision_carries_both_figures_and_metrics():
    decision = _decide(0.80, 0.78)
    assert (
        decision["candidate_roc_auc"],
        decision["champion_roc_auc"],
        decision["margin"],
    ) == (0.80, 0.78, 0.01)
    metrics = promotion_metrics(decision)
    assert metrics["promoted"]["value"] == 1.0
    assert metrics["champion_roc_auc"]["value"] == 0.78


def test_no_champion_scores_none():
    assert score_champion(None, pd.DataFrame())["roc_auc"] is None


def test_the_request_names_the_candidate_and_the_champion_it_was_compared_with():
    class Model:
        model_id_ = "new"

    request = promotion_request(Model(), _decide(0.80, 0.78))
    assert request["model_id"] == "new" and request["promote"] is True
    assert request["champion_version"] == "3"
    assert request["tags"]["candidate_roc_auc"] == 0.80
