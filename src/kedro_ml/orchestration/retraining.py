"""Retraining when the world moved: read the last drift report, retrain only if it says so."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from kedro_ml.core.monitoring import retraining_decision
from kedro_ml.framework.lineage import run_name, triggered_by
from kedro_ml.orchestration.timeline import experiment_id, log_metrics, tracked_run
from kedro_ml.runtime import not_in_ipython

logger = logging.getLogger(__name__)

COMMAND = "retrain-if-drifted"


class DriftReportMissingError(FileNotFoundError):
    """Retraining was asked for before any batch was monitored."""


def _env_flag(env: str | None) -> str:
    return f" --env={env}" if env else ""


def retrain_if_drifted(
    project_path: Path, env: str | None = None, conf_source: str | None = None
) -> dict[str, Any]:
    """Decide from the last drift report; retrain, score and promote only when it recommends.

    The decision is an MLflow run of its own (tag ``pipeline`` =
    ``retrain-if-drifted``, ``kedro_ml.orchestration.timeline``) holding the
    retraining report. When retraining is
    recommended, ``retraining.pipelines`` run in a new Kedro session in this
    process, tracked as a run tagged ``triggered_by`` with the decision's run
    id (a child of it in the MLflow UI). Returns the retraining report.
    """
    import mlflow

    bootstrap_project(project_path)
    create = {"project_path": project_path, "env": env, "conf_source": conf_source}
    with KedroSession.create(**create) as session:
        context = session.load_context()  # sets up tracking (kedro-mlflow)
        catalog, params = context.catalog, context.params
        if not catalog.exists("drift_report"):
            raise DriftReportMissingError(
                "There is no drift report yet: run a monitored batch first "
                f"(kedro run -p sub_churn_batch_score{_env_flag(env)})."
            )
        decision = retraining_decision(catalog.load("drift_report"))
        experiment = experiment_id(context)
    game, pipelines = params["game"], list(params["retraining"]["pipelines"])
    tags = {"pipeline": COMMAND, "game": game, "kedro_env": env or "local"}
    logger.info(
        "Retraining %s: %s",
        "recommended" if decision["retrain"] else "not needed",
        "; ".join(decision["reasons"]) or "the report gives no reason",
    )
    report = {**decision, "retrained": False, "pipelines": None, "run_id": None}
    params_ = {"retraining.pipelines": ",".join(pipelines)}
    with tracked_run(experiment, run_name([COMMAND], game), tags, params_) as run:
        try:
            if decision["retrain"]:
                logger.info("Retraining: running %s", ", ".join(pipelines))
                with triggered_by(run), KedroSession.create(**create) as session:
                    session.run(pipeline_names=pipelines)
                (child,) = mlflow.search_runs(
                    filter_string=f"tags.triggered_by = '{run}'", output_format="list"
                )
                report.update(
                    retrained=True, pipelines=pipelines, run_id=child.info.run_id
                )
            else:
                logger.info("No retraining: the champion stays as it is")
        except Exception as exc:
            report["error"] = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            log_metrics(run, {"retraining.retrained": float(report["retrained"])})
            # the report is an artifact of the decision's run (MlflowArtifactDataset)
            with not_in_ipython(), mlflow.start_run(run_id=run):
                catalog.save("retraining_report", report)
    return report
