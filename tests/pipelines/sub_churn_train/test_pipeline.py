"""``sub_churn_train`` on an in-memory catalog."""

from __future__ import annotations

import copy
import logging

import numpy as np
import pytest
from sklearn.pipeline import Pipeline

from kedro_ml.pipelines import sub_churn_train
from tests.conftest import run_in_memory


def test_trains_a_fitted_pipeline_and_reports(trained, feature_store, base_params):
    model = trained["sub_churn_model"]
    assert isinstance(model, Pipeline)
    assert len(model.model_id_) == 12 and model.seed_ == base_params["train"]["seed"]
    features = trained["train_features"]
    window = base_params["train"]["window"]
    assert (
        features["sub_start_date"]
        .between(window["date_start"], window["date_end"])
        .all()
    )
    labelled = features["sub_churn"].notna().sum()
    assert trained["in_sample_metrics"]["n_scored"] == labelled
    assert (
        trained["in_sample_score_report"].splitlines()[1].startswith("General score: ")
    )
    assert trained["in_sample_metrics"]["roc_auc"] > 0.7


def test_same_seed_same_model_and_a_null_seed_is_logged(
    feature_store, base_params, caplog
):
    params = copy.deepcopy(base_params)
    params["model"]["estimator"] = {
        "type": "sklearn.ensemble.RandomForestClassifier",
        "kwargs": {"n_estimators": 15},
    }
    params["train"]["seed"] = None
    with caplog.at_level(logging.INFO, logger="kedro_ml.core.seeding"):
        first = run_in_memory(sub_churn_train.create_pipeline(), feature_store, params)
    seed = first["sub_churn_model"].seed_
    assert f"Using random seed: {seed}" in caplog.text
    params["train"]["seed"] = seed
    again = run_in_memory(sub_churn_train.create_pipeline(), feature_store, params)
    x = first["train_features"]
    np.testing.assert_array_equal(
        first["sub_churn_model"].predict_proba(x),
        again["sub_churn_model"].predict_proba(x),
    )
    assert first["sub_churn_model"].model_id_ == again["sub_churn_model"].model_id_


def test_search_block_keeps_the_best_candidate(feature_store, base_params):
    params = copy.deepcopy(base_params)
    params["model"]["estimator"] = {
        "type": "sklearn.linear_model.LogisticRegression",
        "kwargs": {"max_iter": 500},
    }
    params["model"]["search"] = {
        "kind": "grid",
        "n_splits": 2,
        "param_grid": {"estimator__C": [1e-6, 1.0]},
    }
    out = run_in_memory(sub_churn_train.create_pipeline(), feature_store, params)
    assert out["sub_churn_model"].named_steps["estimator"].C == 1.0


def test_a_window_without_both_classes_says_what_to_change(feature_store, base_params):
    params = copy.deepcopy(base_params)
    params["train"]["window"] = {
        "date_start": "2017-12-01",
        "date_end": "2017-12-01",
    }  # all censored
    with pytest.raises(ValueError, match="widen train.window"):
        run_in_memory(sub_churn_train.create_pipeline(), feature_store, params)
