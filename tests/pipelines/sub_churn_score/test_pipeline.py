"""``sub_churn_score`` on an in-memory catalog."""

from __future__ import annotations

import pytest
from matplotlib.figure import Figure

from kedro_ml.pipelines import sub_churn_score
from tests.conftest import run_in_memory


@pytest.fixture(scope="module")
def scored(feature_store, trained, small_raw_tables, base_params) -> dict:
    datasets = {
        **feature_store,
        "sub_churn_model": trained["sub_churn_model"],
        "sub_churn_truth": small_raw_tables.sub_churn_truth,
    }
    return run_in_memory(sub_churn_score.create_pipeline(), datasets, base_params)


def test_metrics_cover_the_contract(scored):
    metrics = scored["score_metrics"]
    expected = {
        "roc_auc",
        "pr_auc",
        "log_loss",
        "brier",
        "precision",
        "recall",
        "f1",
        "lift_at_10pct",
        "n_scored",
        "n_unsettled_excluded",
        "n_no_term_excluded",
        "ece",
        "base_rate",
        "oracle_roc_auc",
    }
    assert expected <= set(metrics)
    assert metrics["n_scored"] == scored["score_predictions"]["sub_churn"].notna().sum()
    assert 0.5 < metrics["roc_auc"] <= metrics["oracle_roc_auc"] + 0.1


def test_report_keeps_the_original_lines(scored):
    lines = scored["score_report"].splitlines()
    assert lines[1].startswith("General score: ") and lines[1].endswith(
        " subscriptions."
    )
    assert lines[2].startswith("New character score: ")


def test_plots_and_importance(scored, trained):
    for name in (
        "score_roc_plot",
        "score_pr_plot",
        "score_calibration_plot",
        "feature_importance_plot",
    ):
        assert isinstance(scored[name], Figure)
    importance = scored["feature_importance"]
    assert set(importance["feature"]) == set(trained["sub_churn_model"].feature_names_)
    assert importance["importance_mean"].is_monotonic_decreasing


def test_without_the_truth_file_the_oracle_is_absent(
    feature_store, trained, base_params
):
    import pandas as pd

    datasets = {
        **feature_store,
        "sub_churn_model": trained["sub_churn_model"],
        "sub_churn_truth": pd.DataFrame({"sub_id": [], "churn_probability": []}),
    }
    out = run_in_memory(sub_churn_score.create_pipeline(), datasets, base_params)
    assert out["score_metrics"]["oracle_roc_auc"] is None
