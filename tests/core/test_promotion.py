"""The paired ROC-AUC difference: hand-checked figures, and its sampling error."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from kedro_ml.core.promotion import paired_auc_difference


def test_figures_by_hand():
    y = np.array([0, 0, 1, 1])
    candidate = np.array([0.1, 0.2, 0.8, 0.9])  # ranks perfectly: 1.0
    champion = np.array([0.1, 0.8, 0.2, 0.9])  # 3 of 4 pairs right: 0.75
    result = paired_auc_difference(y, candidate, champion)
    assert result["candidate_roc_auc"] == 1.0
    assert result["champion_roc_auc"] == 0.75
    assert result["roc_auc_difference"] == 0.25
    assert result["difference_low"] < 0.25 < result["difference_high"]
    assert result["n_rows"] == 4


def test_ties_count_half_as_in_sklearn():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 200)
    a = rng.integers(0, 5, 200).astype(float)  # many ties
    b = rng.random(200)
    result = paired_auc_difference(y, a, b)
    assert result["candidate_roc_auc"] == pytest.approx(roc_auc_score(y, a))
    assert result["champion_roc_auc"] == pytest.approx(roc_auc_score(y, b))


def test_the_same_model_differs_by_nothing_with_no_doubt():
    y = np.array([0, 1, 0, 1, 1, 0])
    p = np.array([0.2, 0.7, 0.4, 0.6, 0.9, 0.1])
    result = paired_auc_difference(y, p, p)
    assert result["roc_auc_difference"] == 0
    assert result["difference_low"] == result["difference_high"] == 0


def test_the_interval_matches_a_paired_bootstrap():
    rng = np.random.default_rng(0)
    n = 1500
    signal = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-signal))).astype(int)
    candidate = signal + rng.normal(0, 0.8, n)
    champion = signal + rng.normal(0, 1.0, n)
    result = paired_auc_difference(y, candidate, champion, confidence=0.95)
    boot = []
    for _ in range(600):
        i = rng.integers(0, n, n)
        boot.append(
            roc_auc_score(y[i], candidate[i]) - roc_auc_score(y[i], champion[i])
        )
    assert result["difference_se"] == pytest.approx(np.std(boot), rel=0.15)
    # the interval of the paired difference is far narrower than either AUC's own noise
    assert result["difference_high"] - result["difference_low"] < 0.07


def test_one_class_cannot_be_compared():
    with pytest.raises(ValueError, match="one class"):
        paired_auc_difference(np.ones(5), np.arange(5.0), np.arange(5.0))


def test_only_the_scored_model_may_be_promoted():
    from kedro_ml.core.promotion import NotTheScoredModelError, check_scored_candidate

    check_scored_candidate("a1", "a1")
    with pytest.raises(NotTheScoredModelError) as info:
        check_scored_candidate("b2", "a1")
    message = str(info.value)
    assert "newest trained model is b2" in message and "of model a1" in message
    assert "sub_churn_score_from_raw" in message
