"""A new user's first hour, as they see it: the CLI's output on a fresh copy of the project."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent


def _kedro(project: Path, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "KEDRO_DISABLE_TELEMETRY": "1",
        "DO_NOT_TRACK": "1",
        "COLUMNS": "120",
        "KEDRO_LOGGING_CONFIG": str(project / "conf" / "logging.yml"),
    }
    env.pop("MLFLOW_TRACKING_URI", None)  # the embedded default store
    return subprocess.run(
        [str(BIN / "kedro"), *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_batch_prediction_before_any_training_says_what_to_run_first(project_copy):
    result = _kedro(project_copy, "run", "-p", "sub_churn_batch_predict")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Run `kedro run` first" in output
    assert "champion_model@pyfunc" in output and "subscription_features" in output
    # before any node, and no traceback to read through
    assert "[1/" not in output
    assert "Traceback" not in output and "╭" not in output
    assert len(output.splitlines()) < 30, output
    # in another game's environment the advice carries the environment
    result = _kedro(
        project_copy, "run", "--env=game2_env", "-p", "sub_churn_batch_predict"
    )
    assert "Run `kedro run --env=game2_env` first" in result.stdout + result.stderr


def test_the_lifecycle_ends_with_a_summary_and_prints_a_screenful(project_copy):
    result = _kedro(project_copy, "run")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    lines = output.splitlines()
    last = "\n".join(lines[-15:])
    assert "ROC-AUC" in last and "oracle" in last
    assert "promoted to champion" in last or "not promoted" in last
    assert "data/08_reporting/ (14 outputs)" in last  # the folders it wrote
    assert "runs      in MLflow: make mlflow-ui" in last
    # progress, not chatter: one line per node, no dataset loads or library warnings
    assert re.search(r"\[(\d+)/\1\] ", output), "no progress line for the last node"
    assert "Loading data from" not in output and "Warning" not in output
    assert len(lines) < 120, len(lines)
    # the one tracking store, at the project root
    assert (project_copy / "mlflow.db").exists()
