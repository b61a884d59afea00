"""End to end through ``KedroSession`` on a temporary copy of the project."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from kedro_ml.core.persistence import load_file
from tests.conftest import project_parameters, run_kedro

pytestmark = pytest.mark.slow

BASE = {
    "sub_churn_standard_features",
    "sub_churn_train",
    "sub_churn_score",
    "sub_churn_batch_predict",
    "sub_churn_batch_score",
    "sub_churn_promote",
    "sub_churn_monitor",
}
COMPOSITES = {
    "sub_churn_train_from_raw",
    "sub_churn_score_from_raw",
    "sub_churn_batch_score_from_raw",
}


def _registered(project: Path) -> set[str]:
    from kedro.framework.project import pipelines
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(project)
    pipelines.set_requested(None)
    return set(pipelines.keys())


def _latest(folder: Path) -> Path:
    """The newest version of a versioned dataset folder."""
    return sorted(p for p in folder.iterdir() if p.is_dir())[-1] / folder.name


def test_registry_holds_the_lifecycle(project_copy):
    names = _registered(project_copy)
    assert BASE | COMPOSITES | {"__default__", "sub_churn_synthesize"} <= names


def test_lifecycle_in_the_documented_order(project_copy):
    data = project_copy / "data"
    for name in (
        "sub_churn_train_from_raw",
        "sub_churn_score_from_raw",
        "sub_churn_batch_predict",
        "sub_churn_batch_score_from_raw",
    ):
        run_kedro(project_copy, name)
    reporting = data / "08_reporting"
    metrics = json.loads((reporting / "score_metrics.json").read_text())
    # near the limit: within 0.02 of the generator's own probabilities, calibrated
    assert metrics["roc_auc"] >= metrics["oracle_roc_auc"] - 0.02
    assert metrics["ece"] <= 0.035
    # the limit against the noise: the figure inside its interval, and a perfectly
    # calibrated model (the generator's probabilities) under the limit on the same rows
    assert metrics["ece_low"] <= metrics["ece"] <= metrics["ece_high"]
    assert metrics["oracle_ece"] < 0.035 and metrics["oracle_ece"] > 0
    in_sample = json.loads((reporting / "in_sample_metrics.json").read_text())
    params = project_parameters()
    assert in_sample["label_as_of"] < params["score"]["window"]["date_start"]
    assert in_sample["n_unsettled_excluded"] > 0
    assert (
        f"label_as_of: {in_sample['label_as_of']}"
        in (reporting / "in_sample_score_report.txt").read_text()
    )
    decision = json.loads((reporting / "promotion_decision.json").read_text())
    assert decision["promote"] and decision["reason"] == "there is no champion yet"
    report = (data / "08_reporting" / "score_report.txt").read_text().splitlines()
    assert report[1].startswith("General score: ")
    for png in (
        "roc_curve",
        "precision_recall_curve",
        "calibration_curve",
        "feature_importance",
    ):
        assert (data / "08_reporting" / f"{png}.png").read_bytes()[:4] == b"\x89PNG"
    model = load_file(_latest(data / "06_models" / "sub_churn_model.skops"))
    predictions = pd.read_parquet(
        _latest(data / "07_model_output" / "batch_predictions.parquet")
    )
    assert (predictions["model_id"] == model.model_id_).all()
    batch = json.loads(
        (data / "08_reporting" / "predict_batch_score_report.json").read_text()
    )
    assert (
        batch["n_predicted"]
        == len(predictions)
        == (
            batch["n_scored"]
            + batch["n_unsettled_excluded"]
            + batch["n_no_term_excluded"]
        )
    )
    # the champion reads no extraction-time column
    import mlflow

    champion = mlflow.pyfunc.load_model("models:/sub_churn_game1@champion")
    inputs = champion.metadata.get_input_schema().input_names()
    assert "kd_ratio" not in inputs and "price_per_unit" in inputs
    assert "kd_ratio" not in champion.unwrap_python_model().model.feature_names_
    assert (data / "08_reporting" / "predict_batch_score_report.txt").exists()
    drift = json.loads((data / "08_reporting" / "drift_report.json").read_text())
    # the committed sample has no drift: nothing crosses the usual thresholds
    assert drift["features"] and drift["retrain_recommended"] is False
    assert max(f["psi"] for f in drift["features"].values()) <= 0.2
    assert (data / "08_reporting" / "drift_report.png").read_bytes()[:4] == b"\x89PNG"


def test_every_registered_pipeline_runs(project_copy):
    # __default__ first: it leaves the model and predictions the base pipelines read
    for name in ["__default__", *sorted(BASE | COMPOSITES | {"sub_churn_synthesize"})]:
        run_kedro(project_copy, name)
    assert (
        len(
            list(
                (
                    project_copy / "data" / "06_models" / "sub_churn_model.skops"
                ).iterdir()
            )
        )
        == 3
    )


def test_another_estimator_by_config_only(project_copy):
    path = project_copy / "conf" / "base" / "parameters_model.yml"
    config = yaml.safe_load(path.read_text())
    config["model"]["estimator"] = {
        "type": "sklearn.linear_model.LogisticRegression",
        "kwargs": {"C": 0.3, "max_iter": 2000},
    }
    path.write_text(yaml.safe_dump(config))
    run_kedro(project_copy, "sub_churn_train_from_raw")
    run_kedro(project_copy, "sub_churn_score_from_raw")
    model = load_file(
        _latest(project_copy / "data" / "06_models" / "sub_churn_model.skops")
    )
    assert type(model.named_steps["estimator"]).__name__ == "LogisticRegression"
    metrics = json.loads(
        (project_copy / "data" / "08_reporting" / "score_metrics.json").read_text()
    )
    assert metrics["roc_auc"] > 0.7
