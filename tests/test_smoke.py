"""The fast tier's end-to-end smoke runs: the main job through ``KedroSession``, and ``kedro run``.

Both on a temporary copy of the project with its own sqlite store; the
system tests (servers, Docker, browser, Spark, replay) are in ``tests/e2e``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import mlflow

from tests.conftest import run_kedro

KEDRO = str(Path(sys.executable).with_name("kedro"))


def test_the_whole_lifecycle_runs_and_makes_a_champion(project_copy):
    run_kedro(project_copy, "__default__")
    reports = project_copy / "data" / "08_reporting"
    score = json.loads((reports / "score_metrics.json").read_text())
    assert 0.7 < score["roc_auc"] <= score["oracle_roc_auc"] + 0.02
    decision = json.loads((reports / "promotion_decision.json").read_text())
    assert decision["promote"] is True and decision["champion_version"] is None
    client = mlflow.MlflowClient(f"sqlite:///{project_copy / 'mlflow.db'}")
    champion = client.get_model_version_by_alias("sub_churn_game1", "champion")
    assert champion.tags["promoted"] == "True"
    record = json.loads(
        (project_copy / "data" / "06_models" / "promotions.json").read_text()
    )
    assert [entry["version"] for entry in record] == [str(champion.version)]
    batch = json.loads((reports / "predict_batch_score_report.json").read_text())
    assert batch["n_predicted"] > 0 and batch["model_id"] == score["model_id"]


def test_kedro_run_from_the_command_line_prints_its_summary(project_copy):
    result = subprocess.run(
        [KEDRO, "run", "--pipelines=sub_churn_train_from_raw"],
        cwd=project_copy,
        env={**os.environ, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "Run finished: sub_churn_train_from_raw · game1" in output
    assert "trained   model " in output and "labelled rows (labels as of" in output
    assert "wrote     data/02_intermediate/ (3 outputs)" in output
    assert "data/08_reporting/ (2 outputs)" in output
    assert "runs      in MLflow: make mlflow-ui" in output
