"""``kedro retrain-if-drifted`` end to end: it retrains only when the last report says so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest

from kedro_ml.orchestration.retraining import DriftReportMissingError
from tests.conftest import run_command, run_kedro

pytestmark = pytest.mark.slow

KEDRO = str(Path(sys.executable).with_name("kedro"))
RETRAINING = {
    "sub_churn_standard_features",
    "sub_churn_train",
    "sub_churn_score",
    "sub_churn_promote",
}


def _model_versions(project: Path) -> int:
    folder = project / "data" / "06_models" / "sub_churn_model.skops"
    return len(list(folder.iterdir())) if folder.exists() else 0


def _registered(client: mlflow.MlflowClient) -> int:
    return len(client.search_model_versions("name='sub_churn_game1'"))


def _runs(filter_string: str):
    return mlflow.search_runs(
        experiment_names=["sub_churn_game1"],
        filter_string=filter_string,
        output_format="list",
    )


def _report_artifact(run) -> dict:
    path = mlflow.artifacts.download_artifacts(
        run_id=run.info.run_id, artifact_path="reports/retraining_report.json"
    )
    return json.loads(Path(path).read_text())


def test_without_a_drift_report_it_says_what_to_run(project_copy):
    from click.testing import CliRunner
    from kedro.framework.startup import bootstrap_project

    from kedro_ml.cli import cli

    result = CliRunner().invoke(
        cli, ["retrain-if-drifted"], obj=bootstrap_project(project_copy)
    )
    # told as a message (DriftReportMissingError), not a traceback
    assert result.exit_code == 1
    assert result.output.startswith("Error: There is no drift report yet")
    assert "sub_churn_batch_score" in result.output
    assert DriftReportMissingError.__module__.startswith("kedro_ml")
    assert _model_versions(project_copy) == 0


def test_no_drift_trains_nothing_and_tracks_the_decision(project_copy):
    run_kedro(project_copy, "__default__")  # the committed sample has no drift
    reporting = project_copy / "data" / "08_reporting"
    assert (
        json.loads((reporting / "drift_report.json").read_text())["retrain_recommended"]
        is False
    )
    client = mlflow.MlflowClient()
    registered, versions = _registered(client), _model_versions(project_copy)

    # the real command line: Kedro adds the project's commands to `kedro`
    result = subprocess.run(
        [KEDRO, "retrain-if-drifted"],
        cwd=project_copy,
        env={**os.environ, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert "No retraining needed" in result.stdout

    report = json.loads((reporting / "retraining_report.json").read_text())
    assert report["retrained"] is False and report["run_id"] is None
    assert _model_versions(project_copy) == versions
    assert _registered(client) == registered
    (decision,) = _runs("tags.pipeline = 'retrain-if-drifted'")
    assert decision.info.status == "FINISHED"
    assert decision.data.metrics["retraining.retrained"] == 0.0
    assert _report_artifact(decision) == report
    assert not _runs(f"tags.triggered_by = '{decision.info.run_id}'")


def test_injected_drift_retrains_scores_and_promotes_in_a_child_run(project_copy):
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
    registered = _registered(client)

    result = run_command(project_copy, "retrain-if-drifted")
    assert "Retrained" in result.output

    report = json.loads((reporting / "retraining_report.json").read_text())
    assert report["retrained"] is True and report["reasons"] == drift["reasons"]
    assert set(report["pipelines"]) == RETRAINING
    assert _model_versions(project_copy) == 2  # __default__'s model and the new one
    # the retrained model is __default__'s again (same windows, data, configuration
    # and seed: the same model id), so promotion finds it registered already
    assert _registered(client) == registered
    (decision,) = _runs("tags.pipeline = 'retrain-if-drifted'")
    assert decision.data.metrics["retraining.retrained"] == 1.0
    assert _report_artifact(decision) == report
    (child,) = _runs(f"tags.triggered_by = '{decision.info.run_id}'")
    assert child.info.run_id == report["run_id"]
    assert child.data.tags["mlflow.parentRunId"] == decision.info.run_id
    assert set(child.data.tags["pipeline"].split("+")) == RETRAINING
    assert child.data.metrics["promotion.promoted"] in (0.0, 1.0)
    # every run of this process is closed: nothing leaks into the next session
    assert mlflow.active_run() is None
