"""``sub_churn_retrain_if_drifted`` end to end: it retrains only when the last report says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kedro_ml.hooks import DriftReportMissingError
from tests.conftest import run_kedro

pytestmark = pytest.mark.slow


def _versions(project: Path) -> int:
    folder = project / "data" / "06_models" / "sub_churn_model.pkl"
    return len(list(folder.iterdir())) if folder.exists() else 0


def _runs(filter_string: str):
    import mlflow

    return mlflow.search_runs(
        experiment_names=["sub_churn_game1"],
        filter_string=filter_string,
        output_format="list",
    )


def test_without_a_drift_report_it_says_what_to_run(project_copy):
    with pytest.raises(DriftReportMissingError, match="sub_churn_batch_score"):
        run_kedro(project_copy, "sub_churn_retrain_if_drifted")
    assert _versions(project_copy) == 0


def test_no_recommendation_trains_nothing(project_copy):
    reporting = project_copy / "data" / "08_reporting"
    (reporting / "drift_report.json").write_text(
        json.dumps(
            {
                "retrain_recommended": False,
                "reasons": ["no retraining rule fired"],
                "drifted_features": [],
                "share_drifted": 0.0,
                "prediction": {"drifted": False},
                "model_id": "m1",
            }
        )
    )
    run_kedro(project_copy, "sub_churn_retrain_if_drifted")
    report = json.loads((reporting / "retraining_report.json").read_text())
    assert report["retrained"] is False
    assert report["reasons"] == ["no retraining rule fired"]
    assert _versions(project_copy) == 0
    (run,) = _runs("tags.pipeline = 'sub_churn_retrain_if_drifted'")
    assert run.data.metrics["retraining.retrained"] == 0.0


def test_injected_drift_retrains_scores_and_promotes(project_copy):
    import mlflow

    # the generator shifts prices and play earnings from the batch window on
    run_kedro(
        project_copy,
        "sub_churn_synthesize",
        params={"synthesize": {"drift": {"enabled": True, "from_month": "2017-05-01"}}},
    )
    run_kedro(project_copy, "__default__")
    reporting = project_copy / "data" / "08_reporting"
    drift = json.loads((reporting / "drift_report.json").read_text())
    assert drift["retrain_recommended"] is True
    client = mlflow.MlflowClient()
    versions_before = len(client.search_model_versions("name='sub_churn_game1'"))

    run_kedro(project_copy, "sub_churn_retrain_if_drifted")

    report = json.loads((reporting / "retraining_report.json").read_text())
    assert report["retrained"] is True and report["reasons"] == drift["reasons"]
    assert _versions(project_copy) == 2  # __default__'s model and the retrained one
    # the promotion step registered the new candidate
    assert len(client.search_model_versions("name='sub_churn_game1'")) == (
        versions_before + 1
    )
    (parent,) = _runs("tags.pipeline = 'sub_churn_retrain_if_drifted'")
    assert parent.data.metrics["retraining.retrained"] == 1.0
    trigger = f"sub_churn_retrain_if_drifted:{parent.info.run_id}"
    (child,) = _runs(f"tags.triggered_by = '{trigger}'")
    assert set(child.data.tags["pipeline"].split("+")) == {
        "sub_churn_standard_features",
        "sub_churn_train",
        "sub_churn_score",
        "sub_churn_promote",
    }
    assert child.data.metrics["promotion.promoted"] in (0.0, 1.0)
    assert json.loads((reporting / "promotion_decision.json").read_text())
