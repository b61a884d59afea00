"""Pipeline ``sub_churn_retrain_if_drifted``: the retraining signal acted upon."""

from kedro.pipeline import Node, Pipeline

from .nodes import decide_retraining, run_retraining


def create_pipeline(**kwargs) -> Pipeline:
    """Read the last drift report; retrain, score and promote only when it recommends it.

    ``kedro_run`` (environment, project path, configuration source and MLflow
    run of the current run) is put into the catalog by
    ``kedro_ml.hooks.RunContextHooks`` before the first node.
    """
    return Pipeline(
        [
            Node(
                decide_retraining,
                "drift_report",
                "retraining_decision",
                name="decide_retraining",
            ),
            Node(
                run_retraining,
                ["retraining_decision", "params:retraining", "kedro_run"],
                ["retraining_report", "retraining_mlflow_metrics"],
                name="run_retraining",
            ),
        ],
        tags=["monitor", "retrain"],
    )
