"""Metrics and reports on hand-checkable predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kedro_ml.core.reporting import (
    classification_metrics,
    evaluate_predictions,
    expected_calibration_error,
    lift_at,
    oracle_roc_auc,
    roc_figure,
    score_report,
    unlabelled_counts,
)


def test_metrics_by_hand():
    y = np.array([0, 0, 1, 1])
    proba = np.array([0.1, 0.6, 0.4, 0.9])
    m = classification_metrics(y, proba, threshold=0.5)
    assert m["roc_auc"] == pytest.approx(0.75)  # 3 of 4 positive/negative pairs ordered
    assert m["precision"] == 0.5 and m["recall"] == 0.5 and m["f1"] == 0.5
    assert m["brier"] == pytest.approx((0.01 + 0.36 + 0.36 + 0.01) / 4)
    assert m["n_scored"] == 4 and m["base_rate"] == 0.5


def test_thresholded_metrics_by_hand_and_when_nothing_is_predicted():
    y = np.array([0, 0, 1, 1, 1])
    proba = np.array([0.7, 0.2, 0.8, 0.3, 0.1])  # flagged: rows 0 and 2; one right
    m = classification_metrics(y, proba, threshold=0.5)
    assert m["precision"] == 0.5 and m["recall"] == pytest.approx(1 / 3)
    assert m["f1"] == pytest.approx(0.4)  # 2 * 0.5 * (1/3) / (0.5 + 1/3)
    nothing = classification_metrics(y, proba, threshold=0.9)
    assert (nothing["precision"], nothing["recall"], nothing["f1"]) == (0.0, 0.0, 0.0)
    none_churned = classification_metrics(np.zeros(5, int), proba, threshold=0.5)
    assert (none_churned["precision"], none_churned["recall"]) == (0.0, 0.0)


def test_single_class_has_no_roc_auc_and_empty_input_says_why():
    m = classification_metrics(np.array([0, 0]), np.array([0.2, 0.3]), 0.5)
    assert m["roc_auc"] is None and m["pr_auc"] is None
    with pytest.raises(ValueError, match="no labelled subscriptions"):
        classification_metrics(np.array([]), np.array([]), 0.5)


def test_lift_at_top_decile():
    y = np.array([1] + [0] * 9 + [1] * 0 + [0] * 10)  # 1 churner in 20: base rate 0.05
    proba = np.linspace(1, 0, 20)
    assert lift_at(y, proba, 0.1) == pytest.approx(0.5 / 0.05)  # top 2 hold 1 churner


def _predictions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sub_id": [1, 2, 3, 4, 5],
            "sub_churn": pd.array([0, 1, 0, 1, pd.NA], dtype="Int8"),
            "sub_churn_pred": [0.2, 0.8, 0.3, 0.1, 0.5],
            "is_first_sub": [1, 1, 0, 0, 1],
        }
    )


def test_evaluate_counts_unlabelled_and_new_characters():
    metrics, new_character = evaluate_predictions(_predictions(), 0.5)
    assert metrics["n_scored"] == 4 and metrics["n_unsettled_excluded"] == 1
    assert new_character == {"roc_auc": 1.0, "n_scored": 2}
    report = score_report("Score report", "game1", metrics, new_character)
    assert "General score: 0.5000 on 4 subscriptions." in report
    assert "New character score: 1.0000 on 2 subscriptions." in report
    assert "Left out, without a label: 1 not settled yet, 0 without a term." in report


def test_unlabelled_rows_are_counted_by_reason():
    rows = pd.DataFrame(
        {
            "sub_churn": pd.array([1, None, None, 0], dtype="Int8"),
            "label_state": ["settled", "unsettled", "no_term", "settled"],
        }
    )
    assert unlabelled_counts(rows) == {
        "n_unsettled_excluded": 1,
        "n_no_term_excluded": 1,
    }


def test_expected_calibration_error_by_hand():
    # two bins of two rows: observed 0.5 vs predicted 0.25, observed 1 vs predicted 0.9
    y = np.array([0, 1, 1, 1])
    proba = np.array([0.2, 0.3, 0.9, 0.9])
    assert expected_calibration_error(y, proba, bins=2) == pytest.approx(
        (0.25 + 0.1) / 2
    )
    assert expected_calibration_error(y, proba, bins=10) is None  # too few rows


def test_oracle_uses_the_same_rows_and_needs_full_coverage():
    truth = pd.DataFrame(
        {"sub_id": [1, 2, 3, 4, 5], "churn_probability": [0.1, 0.9, 0.2, 0.8, 0.0]}
    )
    assert oracle_roc_auc(_predictions(), truth) == 1.0
    assert oracle_roc_auc(_predictions(), truth.iloc[:2]) is None
    assert oracle_roc_auc(_predictions(), truth.iloc[0:0]) is None


def test_figures_have_axes_and_curves():
    fig = roc_figure(np.array([0, 1, 0, 1]), np.array([0.1, 0.9, 0.4, 0.6]), "ROC")
    ax = fig.axes[0]
    assert ax.get_title() == "ROC" and len(ax.lines) == 2


def test_the_ece_interval_holds_the_figure_and_stays_above_zero_from_label_noise():
    from kedro_ml.core.reporting import ece_interval, expected_calibration_error

    rng = np.random.default_rng(3)
    p = rng.uniform(0.05, 0.6, 4000)
    y = (rng.uniform(size=4000) < p).astype(int)  # perfectly calibrated by construction
    low, high = ece_interval(y, p)
    assert 0 < low <= expected_calibration_error(y, p) <= high < 0.06
    assert ece_interval(y, p) == (low, high)  # seeded: the same interval again
    shifted_low, _ = ece_interval(y, np.clip(p + 0.2, 0, 1))
    assert shifted_low > high  # a model 0.2 off is told apart from noise


def test_calibration_with_noise_scores_the_true_probabilities_on_the_same_rows():
    import pandas as pd

    from kedro_ml.core.reporting import (
        calibration_with_noise,
        expected_calibration_error,
    )

    rng = np.random.default_rng(4)
    truth_p = rng.uniform(0.1, 0.5, 600)
    churn = (rng.uniform(size=600) < truth_p).astype(float)
    churn[:50] = np.nan  # unsettled: left out of both
    predictions = pd.DataFrame(
        {"sub_id": np.arange(600), "sub_churn": churn, "sub_churn_pred": truth_p * 0.9}
    )
    truth = pd.DataFrame({"sub_id": np.arange(600), "churn_probability": truth_p})
    result = calibration_with_noise(predictions, truth)
    kept = ~np.isnan(churn)
    assert result["oracle_ece"] == expected_calibration_error(
        churn[kept].astype(int), truth_p[kept]
    )
    assert result["ece_low"] < result["ece_high"]
    assert calibration_with_noise(predictions, truth.iloc[:0])["oracle_ece"] is None
