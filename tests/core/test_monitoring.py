"""Drift statistics on hand-checkable samples, and the retraining rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kedro_ml.core.monitoring import (
    DriftReportError,
    drift_report,
    feature_drift,
    psi_categorical,
    psi_numeric,
    retraining_decision,
)

RULE = {
    "psi_threshold": 0.25,
    "ks_threshold": 0.3,
    "drift_share_threshold": 0.3,
    "key_features": ["b"],
}


def test_psi_is_zero_for_the_same_sample_and_grows_with_a_shift():
    x = np.random.default_rng(0).normal(size=5000)
    assert psi_numeric(x, x) == pytest.approx(0.0, abs=1e-9)
    assert psi_numeric(x, x + 0.1) < psi_numeric(x, x + 1.0)
    assert psi_numeric(x, x + 1.0) > 0.25


def test_categorical_psi_by_hand():
    ref = pd.Series(["a"] * 50 + ["b"] * 50)
    cur = pd.Series(["a"] * 80 + ["b"] * 20)
    expected = (0.8 - 0.5) * np.log(0.8 / 0.5) + (0.2 - 0.5) * np.log(0.2 / 0.5)
    assert psi_categorical(ref, cur) == pytest.approx(expected)


def test_missing_values_count_as_their_own_bin():
    ref = np.r_[np.arange(100.0), [np.nan] * 0]
    cur = np.r_[np.arange(100.0), [np.nan] * 100]
    assert psi_numeric(ref, cur) > 0.25


def test_feature_verdicts_and_the_rule():
    rng = np.random.default_rng(1)
    ref = pd.DataFrame(
        {
            "a": rng.normal(size=2000),
            "b": rng.normal(size=2000),
            "c": rng.choice(["x", "y"], 2000),
        }
    )
    same = pd.DataFrame(
        {
            "a": rng.normal(size=2000),
            "b": rng.normal(size=2000),
            "c": rng.choice(["x", "y"], 2000),
        }
    )
    report = drift_report(
        ref, same, ["a", "b", "c"], ref["a"].to_numpy(), same["a"].to_numpy(), RULE
    )
    assert report["drifted_features"] == [] and not report["retrain_recommended"]
    shifted = same.assign(b=same["b"] + 2)  # a key feature moves
    report = drift_report(
        ref, shifted, ["a", "b", "c"], ref["a"].to_numpy(), same["a"].to_numpy(), RULE
    )
    assert report["drifted_features"] == ["b"] and report["retrain_recommended"]
    assert (
        report["features"]["b"]["ks_statistic"] > 0.5
        and report["features"]["c"]["kind"] == "categorical"
    )
    assert any("key features drifted: b" in reason for reason in report["reasons"])
    moved = same.assign(
        a=same["a"] + 2, c="x"
    )  # 2 of 3 drifted: over the share threshold
    report = drift_report(
        ref,
        moved,
        ["a", "b", "c"],
        ref["b"].to_numpy(),
        same["b"].to_numpy(),
        {**RULE, "key_features": []},
    )
    assert (
        report["share_drifted"] == pytest.approx(2 / 3)
        and report["retrain_recommended"]
    )
    assert feature_drift(ref["a"], ref["a"] * 1.0, RULE)["drifted"] is False


def _report(recommended: bool) -> dict:
    return {
        "retrain_recommended": recommended,
        "reasons": ["key features drifted: price"]
        if recommended
        else ["no retraining rule fired"],
        "drifted_features": ["price"] if recommended else [],
        "share_drifted": 0.02 if recommended else 0.0,
        "prediction": {"drifted": False, "psi": 0.01},
        "model_id": "abc123",
    }


def test_the_retraining_decision_follows_the_report_and_keeps_its_reasons():
    yes = retraining_decision(_report(True))
    assert yes["retrain"] is True and yes["reasons"] == ["key features drifted: price"]
    assert yes["drifted_features"] == ["price"] and yes["report_model_id"] == "abc123"
    no = retraining_decision(_report(False))
    assert no["retrain"] is False and no["prediction_drifted"] is False


@pytest.mark.parametrize("report", [{}, {"retrain_recommended": "yes"}, []])
def test_a_report_without_a_recommendation_is_refused(report):
    with pytest.raises(DriftReportError, match="retrain_recommended"):
        retraining_decision(report)
