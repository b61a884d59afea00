"""Nodes of the retraining pipeline: read the last drift report, retrain when it recommends.

Kedro runs every node of a pipeline, so the conditional part cannot be a set of
nodes: the retraining is one ``kedro run --pipelines ...`` of the lifecycle
pipelines (standard features, train, score, promote), started by
``run_retraining`` only when the decision says so. That run is tracked as its
own MLflow run, tagged ``triggered_by`` with this run's id; when no retraining
is needed, nothing is trained, written or registered.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from typing import Any

logger = logging.getLogger(__name__)

TRIGGER_ENV = "KEDRO_ML_TRIGGERED_BY"


def decide_retraining(drift_report: dict) -> dict:
    """Whether to retrain, and why, from the last drift report's recommendation."""
    retrain = bool(drift_report["retrain_recommended"])
    reasons = list(drift_report.get("reasons") or [])
    decision = {
        "retrain": retrain,
        "reasons": reasons,
        "drifted_features": list(drift_report.get("drifted_features") or []),
        "share_drifted": drift_report.get("share_drifted"),
        "prediction_drifted": bool(
            (drift_report.get("prediction") or {}).get("drifted")
        ),
        "report_model_id": drift_report.get("model_id"),
    }
    logger.info(
        "Retraining %s: %s",
        "needed" if retrain else "not needed",
        "; ".join(reasons) or "the report gives no reason",
    )
    return decision


def retraining_command(pipelines: list[str], kedro_run: dict[str, Any]) -> list[str]:
    """The ``kedro run`` that retrains in the same environment and configuration.

    ``python -m kedro_ml`` is the project's own ``kedro run``: it works in the
    source tree and where only the ``kedro_ml`` wheel is installed.
    """
    command = [sys.executable, "-m", "kedro_ml", "--pipelines", ",".join(pipelines)]
    if kedro_run.get("env"):
        command += ["--env", str(kedro_run["env"])]
    if kedro_run.get("conf_source"):
        command += ["--conf-source", str(kedro_run["conf_source"])]
    return command


def run_retraining(
    decision: dict, retraining: dict, kedro_run: dict[str, Any]
) -> tuple[dict, dict]:
    """Run the lifecycle pipelines when ``decision`` says so; the outcome and its metric."""
    outcome = {**decision, "retrained": False, "command": None}
    if not decision["retrain"]:
        logger.info("No retraining run: the champion stays as it is")
    else:
        command = retraining_command(list(retraining["pipelines"]), kedro_run)
        logger.info("Retraining: %s", " ".join(command[2:]))
        trigger = f"sub_churn_retrain_if_drifted:{kedro_run.get('mlflow_run_id') or 'untracked'}"
        result = subprocess.run(  # noqa: S603 - our own interpreter and arguments
            command,
            cwd=kedro_run["project_path"],
            env={**os.environ, TRIGGER_ENV: trigger},
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"The retraining run failed (exit code {result.returncode}): "
                f"{' '.join(command[2:])}. Its log is above; the champion is unchanged "
                "unless the promotion step had already run."
            )
        outcome.update(retrained=True, command=" ".join(command[2:]))
    metrics = {"retrained": {"value": float(outcome["retrained"]), "step": 0}}
    return outcome, metrics
