"""``sub_churn_train`` on an in-memory catalog."""

from __future__ import annotations

import copy
import logging

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from kedro_ml.pipelines import sub_churn_train
from tests.conftest import run_in_memory


def test_trains_a_fitted_pipeline_and_reports(trained, feature_store, base_params):
    model = trained["sub_churn_model"]
    assert isinstance(model, Pipeline)
    assert len(model.model_id_) == 12 and model.seed_ == base_params["train"]["seed"]
    table = trained["train_table"]
    window = base_params["train"]["window"]
    assert (
        table["sub_start_date"].between(window["date_start"], window["date_end"]).all()
    )
    labelled = table["sub_churn"].notna().sum()
    metrics = trained["in_sample_metrics"]
    assert metrics["n_scored"] == labelled
    assert (
        trained["in_sample_score_report"].splitlines()[1].startswith("General score: ")
    )
    assert metrics["roc_auc"] > 0.7
    assert "kd_ratio" not in model.feature_names_


def test_in_sample_metrics_score_the_labelled_rows_only(trained):
    from sklearn.metrics import log_loss, roc_auc_score

    table, model = trained["train_table"], trained["sub_churn_model"]
    labelled = table[table["sub_churn"].notna()]
    assert len(labelled) < len(table)  # some rows have no label: not scored
    proba = model.predict_proba(labelled)[:, 1]
    metrics = trained["in_sample_metrics"]
    y = labelled["sub_churn"].astype(int)
    assert metrics["roc_auc"] == pytest.approx(roc_auc_score(y, proba), abs=1e-12)
    assert metrics["log_loss"] == pytest.approx(log_loss(y, proba), abs=1e-12)


def test_training_labels_are_as_known_the_month_before_scoring(trained, base_params):
    metrics = trained["in_sample_metrics"]
    assert metrics["label_as_of"] == "2016-10-01"  # score.window starts 2016-11
    assert metrics["label_as_of"] < base_params["score"]["window"]["date_start"]
    table = trained["train_table"]
    unsettled = int((table["label_state"].astype(str) == "unsettled").sum())
    assert unsettled > 0 and metrics["n_unsettled_excluded"] == unsettled
    assert "Left out, without a label: " in trained["in_sample_score_report"]
    assert trained["training_run_params"] == {
        "training.label_as_of": "2016-10-01",
        "training.n_unsettled_excluded": str(unsettled),
        "training.n_no_term_excluded": "0",
    }


def test_missed_months_after_the_cutoff_do_not_change_training_labels(
    feature_store, base_params
):
    """What happened from the deployment month on cannot reach the training labels."""
    from kedro_ml.pipelines.sub_churn_train.nodes import label_training_rows

    features = feature_store["subscription_features"]
    miss = feature_store["sub_miss_validated"]
    score_window = base_params["score"]["window"]
    deployment = pd.Timestamp(score_window["date_start"])

    def training_labels(runs: pd.DataFrame) -> pd.Series:
        table, _ = label_training_rows(features, runs, None, score_window, None)
        return table.set_index("sub_id")["sub_churn"]

    before = training_labels(miss)
    after = miss["start_date"] >= deployment
    assert after.any()
    rng = np.random.default_rng(3)
    changed = miss.copy()
    # runs dated after the cutoff: dropped, lengthened, and new ones for anyone
    changed = changed[~(after & (rng.random(len(miss)) < 0.5))]
    later = changed["start_date"] >= deployment
    changed.loc[later, "end_date"] = changed.loc[later, "end_date"] + pd.DateOffset(
        months=5
    )
    extra = features.sample(500, random_state=1)[["sub_id"]].assign(
        start_date=deployment + pd.DateOffset(months=1),
        end_date=deployment + pd.DateOffset(months=4),
    )
    changed = pd.concat([changed, extra], ignore_index=True)
    pd.testing.assert_series_equal(before, training_labels(changed))
    # while the same change before the cutoff does change them
    earlier = extra.assign(
        start_date=pd.Timestamp("2015-09-01"), end_date=pd.Timestamp("2015-12-01")
    )
    assert not before.equals(training_labels(pd.concat([miss, earlier])))


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
        "type": "sklearn.ensemble.HistGradientBoostingClassifier",
        "kwargs": {"learning_rate": 0.1, "early_stopping": False},
    }
    # one boosting round against forty: the search must keep the forty
    params["model"]["search"] = {
        "kind": "grid",
        "n_splits": 2,
        "param_grid": {"estimator__max_iter": [1, 40]},
    }
    out = run_in_memory(sub_churn_train.create_pipeline(), feature_store, params)
    assert out["sub_churn_model"].named_steps["estimator"].max_iter == 40


def test_a_window_without_both_classes_says_what_to_change(feature_store, base_params):
    params = copy.deepcopy(base_params)
    params["train"]["window"] = {
        "date_start": "2017-12-01",
        "date_end": "2017-12-01",
    }  # all censored
    with pytest.raises(ValueError, match="widen train.window"):
        run_in_memory(sub_churn_train.create_pipeline(), feature_store, params)
