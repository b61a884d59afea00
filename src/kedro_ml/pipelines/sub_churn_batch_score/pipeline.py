"""Pipeline ``sub_churn_batch_score``: a batch's predictions scored once actuals are known."""

from kedro.pipeline import Node, Pipeline

from kedro_ml.core.metrics import mlflow_metrics

from .nodes import score_batch


def create_pipeline(**kwargs) -> Pipeline:
    """Join the latest batch predictions with the labels and report."""
    return Pipeline(
        [
            Node(
                score_batch,
                [
                    "batch_predictions",
                    "sub_churn_labels",
                    "subscription_features",
                    "sub_churn_truth",
                    "params:score.threshold",
                    "params:game",
                ],
                ["batch_score_metrics", "predict_batch_score_report"],
                name="score_batch",
            ),
            Node(
                mlflow_metrics,
                "batch_score_metrics",
                "batch_score_mlflow_metrics",
                name="track_batch_score_metrics",
            ),
        ],
        tags=["batch_score"],
    )
