"""The retraining decision and the command it runs, on hand-made drift reports."""

from __future__ import annotations

import sys

from kedro_ml.pipelines.sub_churn_retrain_if_drifted.nodes import (
    decide_retraining,
    retraining_command,
    run_retraining,
)

PIPELINES = ["sub_churn_standard_features", "sub_churn_train"]


def _report(recommended: bool) -> dict:
    return {
        "retrain_recommended": recommended,
        "reasons": ["price drifted (key feature)"]
        if recommended
        else ["no retraining rule fired"],
        "drifted_features": ["price"] if recommended else [],
        "share_drifted": 0.02 if recommended else 0.0,
        "prediction": {"drifted": False, "psi": 0.01},
        "model_id": "abc123",
    }


def test_the_decision_follows_the_report_and_keeps_its_reasons():
    yes = decide_retraining(_report(True))
    assert yes["retrain"] and yes["reasons"] == ["price drifted (key feature)"]
    assert yes["drifted_features"] == ["price"] and yes["report_model_id"] == "abc123"
    no = decide_retraining(_report(False))
    assert not no["retrain"] and no["reasons"] == ["no retraining rule fired"]


def test_no_recommendation_runs_nothing(tmp_path):
    decision = decide_retraining(_report(False))
    # a project path where any kedro run would fail: nothing may be started
    context = {"project_path": str(tmp_path / "nowhere"), "env": None}
    outcome, metrics = run_retraining(decision, {"pipelines": PIPELINES}, context)
    assert outcome["retrained"] is False and outcome["command"] is None
    assert outcome["reasons"] == ["no retraining rule fired"]
    assert metrics == {"retrained": {"value": 0.0, "step": 0}}


def test_the_command_keeps_environment_and_configuration():
    command = retraining_command(
        PIPELINES, {"env": "game2_env", "conf_source": "/srv/conf"}
    )
    assert command[:3] == [sys.executable, "-m", "kedro_ml"]
    assert command[3:] == [
        "--pipelines",
        "sub_churn_standard_features,sub_churn_train",
        "--env",
        "game2_env",
        "--conf-source",
        "/srv/conf",
    ]
    assert "--env" not in retraining_command(PIPELINES, {"env": None})
