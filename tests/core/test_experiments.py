"""Candidates from configuration, their table and their ROC-AUC interval, by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from kedro_ml.core.experiments import (
    calibration_curve_points,
    candidate_models,
    candidate_overrides,
    ranked,
)
from kedro_ml.core.params import ParameterError
from kedro_ml.core.promotion import auc_interval
from tests.conftest import project_parameters

GROUPS = ["numeric", "log_scaled", "log1p_scaled", "categorical"]


def test_a_candidate_changes_only_what_it_names():
    changes = candidate_overrides(
        {"model": {"estimator": "random_forest"}, "without_groups": ["categorical"]},
        GROUPS,
    )
    assert changes == {
        "estimator": "random_forest",
        "features": {"categorical": []},
        "preprocessing": {"categorical": []},
    }
    assert candidate_overrides({}, GROUPS) == {}
    with pytest.raises(KeyError):
        candidate_overrides({"without_groups": ["colour"]}, GROUPS)


def test_the_project_candidates_merge_into_whole_model_blocks():
    params = project_parameters()
    models = candidate_models(params)
    assert list(models) == [
        "logistic_regression",
        "without_categorical",
        "boosted_trees",
        "random_forest",
        "logistic_grid",
    ]
    assert models["logistic_regression"] == params["model"]
    assert models["without_categorical"]["features"]["categorical"] == []
    assert (
        models["without_categorical"]["features"]["numeric"]
        == params["model"]["features"]["numeric"]
    )
    # a preset's kwargs merge key by key, as --params merges them
    assert models["boosted_trees"]["estimator"] == "hist_gradient_boosting"
    assert models["logistic_grid"]["search"]["param_grid"] == {
        "estimator__C": [0.03, 0.1, 0.3, 1.0]
    }
    assert list(candidate_models(params, ["random_forest"])) == ["random_forest"]


def test_every_bad_candidate_is_named_at_once():
    params = project_parameters()
    params["experiments"] = {
        "candidates": {
            "good": None,
            "outside": {"model": {"estimator": {"type": "subprocess.Popen"}}},
            "typo": {
                "model": {"estimators": {"random_forest": {"kwargs": {"max_depht": 3}}}}
            },
        }
    }
    params["experiments"]["candidates"]["typo"]["model"]["estimator"] = "random_forest"
    with pytest.raises(ParameterError) as error:
        candidate_models(params)
    text = str(error.value)
    assert "nothing was trained" in text
    assert (
        "experiments.candidates.outside: model.estimator.type: 'subprocess.Popen'"
        in text
    )
    assert "experiments.candidates.typo" in text and "max_depht" in text
    assert "candidates.good" not in text
    with pytest.raises(ParameterError, match="--only nope: not a candidate"):
        candidate_models(project_parameters(), ["nope"])


def test_the_table_ranks_by_roc_auc_unscored_last():
    table = ranked(
        [
            {"candidate": "a", "roc_auc": 0.7},
            {"candidate": "b", "roc_auc": None},
            {"candidate": "c", "roc_auc": 0.8},
        ]
    )
    assert list(table["candidate"]) == ["c", "a", "b"]
    assert list(table["rank"]) == [1, 2, 3]
    assert "model_bytes" in table.columns


def _delong_reference(y, scores):
    """DeLong's variance of one ROC-AUC, by pairwise comparisons (O(n^2))."""
    pos, neg = scores[y == 1], scores[y == 0]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    auc = psi.mean()
    return auc, v10.var(ddof=1) / len(pos) + v01.var(ddof=1) / len(neg)


def test_the_roc_auc_interval_is_delongs():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 400)
    scores = np.round(y * 0.6 + rng.normal(size=400), 1)  # ties included
    auc, low, high = auc_interval(y, scores)
    reference, variance = _delong_reference(y, scores)
    assert auc == pytest.approx(roc_auc_score(y, scores), abs=1e-12)
    assert auc == pytest.approx(reference, abs=1e-12)
    assert (high - low) / 2 == pytest.approx(1.959964 * math.sqrt(variance), rel=1e-5)
    with pytest.raises(ValueError, match="one class"):
        auc_interval(np.ones(5), np.arange(5.0))


def test_calibration_points_are_means_per_decile():
    proba = np.linspace(0.05, 0.95, 100)
    y = (np.arange(100) % 2).astype(float)
    predicted, observed = calibration_curve_points(y, proba)
    assert len(predicted) == 10
    assert predicted[0] == pytest.approx(proba[:10].mean())
    assert observed[0] == pytest.approx(0.5)
