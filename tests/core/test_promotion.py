"""The paired ROC-AUC difference: hand-checked figures, and its sampling error."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from kedro_ml.core.promotion import (
    decide,
    detectable_gain,
    paired_auc_difference,
    power,
    term_weights,
)


def _delong_by_rank(y, candidate, champion):
    """DeLong's variance of the paired difference from ranks (the textbook form)."""
    from scipy.stats import rankdata

    def placements(s):
        pos, neg = s[y == 1], s[y == 0]
        m, n = len(pos), len(neg)
        combined = rankdata(np.concatenate([pos, neg]))
        v10 = (combined[:m] - rankdata(pos)) / n
        v01 = 1.0 - (combined[m:] - rankdata(neg)) / m
        return v10, v01

    c10, c01 = placements(candidate)
    h10, h01 = placements(champion)
    m, n = len(c10), len(c01)
    return np.var(c10 - h10, ddof=1) / m + np.var(c01 - h01, ddof=1) / n


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


def test_without_weights_the_variance_is_delongs_own():
    rng = np.random.default_rng(3)
    n = 700
    signal = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-signal))).astype(int)
    candidate = np.round(signal + rng.normal(0, 0.8, n), 1)  # ties too
    champion = signal + rng.normal(0, 1.0, n)
    result = paired_auc_difference(y, candidate, champion)
    assert result["difference_se"] ** 2 == pytest.approx(
        _delong_by_rank(y, candidate, champion), rel=1e-12
    )
    ones = paired_auc_difference(y, candidate, champion, weights=np.ones(n))
    assert ones == result
    assert result["effective_rows"] == n


def test_whole_weights_count_a_row_as_often_as_it_is_repeated():
    rng = np.random.default_rng(4)
    n = 300
    y = rng.integers(0, 2, n)
    candidate, champion = rng.random(n), rng.random(n)
    weights = rng.integers(1, 4, n).astype(float)
    weighted = paired_auc_difference(y, candidate, champion, weights=weights)
    repeated = np.repeat(np.arange(n), weights.astype(int))
    assert weighted["candidate_roc_auc"] == pytest.approx(
        roc_auc_score(y[repeated], candidate[repeated]), abs=1e-12
    )
    assert weighted["champion_roc_auc"] == pytest.approx(
        roc_auc_score(y[repeated], champion[repeated]), abs=1e-12
    )
    # Kish's effective size, between the distinct rows and the repeated ones
    kish = weights.sum() ** 2 / (weights**2).sum()
    assert weighted["effective_rows"] == pytest.approx(kish, abs=0.05)
    assert n * 0.8 < kish < len(repeated)


@pytest.mark.parametrize(
    "weights", [np.array([1.0, 0.0, 1.0, 1.0]), np.array([1.0, np.nan, 1, 1])]
)
def test_weights_must_be_positive_and_finite(weights):
    with pytest.raises(ValueError, match="weights"):
        paired_auc_difference(
            np.array([0, 1, 0, 1]), np.arange(4.0), np.arange(4.0), weights=weights
        )


def test_term_weights_make_the_settled_rows_stand_for_the_window():
    # the window: 6 one-month, 2 three-month, 2 six-month subscriptions;
    # settled: 4 one-month and 1 three-month (no six-month yet)
    window = np.array([1] * 6 + [3] * 2 + [6] * 2)
    settled = np.array([1] * 4 + [3])
    weights, represented, missing = term_weights(window, settled)
    assert represented == pytest.approx(0.8)
    assert missing == {6: pytest.approx(0.2)}
    # the three-month row counts for the window's 20 %, the one-month rows for 60 %
    share_3 = weights[4] / weights.sum()
    assert share_3 == pytest.approx(0.2 / 0.8)
    assert weights.mean() == pytest.approx(1.0)
    # settled rows that already have the window's mix keep weight 1
    same, whole, none = term_weights(window, window)
    assert np.allclose(same, 1) and whole == pytest.approx(1.0) and none == {}
    # nothing settled stands for nothing
    assert term_weights(window, np.array([]))[1] == 0.0


def _comparison(**changes):
    comparison = {
        "roc_auc_difference": 0.03,
        "difference_low": 0.01,
        "difference_high": 0.05,
        "represented_share": 0.9,
        "unrepresented_terms": {"6": 0.1},
    }
    return {**comparison, **changes}


def test_a_window_the_rows_do_not_stand_for_is_not_promoted_saying_why():
    promote, reason = decide(0.8, _comparison(), 0.95, 0.005, 0.85)
    assert promote
    promote, reason = decide(
        0.8,
        _comparison(represented_share=0.6, unrepresented_terms={"6": 0.1, "2": 0.3}),
        0.95,
        0.005,
        0.85,
    )
    assert not promote
    assert "60%" in reason and "85%" in reason
    assert reason.index("2-month") < reason.index("6-month")  # in term order
    assert "wait for the longer terms to settle" in reason


def test_min_gain_is_a_margin_above_zero():
    assert not decide(0.8, _comparison(difference_low=0.004), 0.95, 0.005)[0]
    assert decide(0.8, _comparison(difference_low=0.006), 0.95, 0.005)[0]


def test_power_and_detectable_gain_by_hand():
    # se 0.01, 95 %: z = 1.96; a true gain of min_gain + 1.96 se is promoted half the time
    assert power(0.01, 0.95, 0.0, 0.0196) == pytest.approx(0.5, abs=1e-3)
    assert power(0.01, 0.95, 0.0, 0.0196 + 0.0084) == pytest.approx(0.8, abs=2e-3)
    assert detectable_gain(0.01, 0.95, 0.0) == pytest.approx(0.0196 + 0.0084, abs=1e-4)
    assert detectable_gain(0.01, 0.95, 0.005) == pytest.approx(0.033, abs=1e-4)
    # more rows, smaller se: more power against the same gain
    assert power(0.005, 0.95, 0.005, 0.02) > power(0.01, 0.95, 0.005, 0.02)
    assert power(0.0, 0.95, 0.005, 0.02) == 1.0
