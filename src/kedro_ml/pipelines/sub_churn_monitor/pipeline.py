"""Pipeline ``sub_churn_monitor``: the drift report of the latest batch."""

from kedro.pipeline import Node, Pipeline

from .nodes import drift_metrics, report_drift


def create_pipeline(**kwargs) -> Pipeline:
    """Compare the batch window's features and predictions with the training window's."""
    return Pipeline(
        [
            Node(
                report_drift,
                [
                    "sub_churn_model",
                    "train_features",
                    "batch_predict_features",
                    "params:monitoring",
                ],
                ["drift_report", "drift_plot"],
                name="report_drift",
            ),
            Node(
                drift_metrics,
                "drift_report",
                "drift_mlflow_metrics",
                name="track_drift",
            ),
        ],
        tags=["monitor"],
    )
