"""Pipeline ``sub_churn_train``: training window features, fitted model, in-sample report."""

from kedro.pipeline import Node, Pipeline

from kedro_ml.core.reporting import mlflow_metrics
from kedro_ml.pipelines.window_features import window_features

from .nodes import in_sample_report, model_for_tracking, train_model, training_tags


def create_pipeline(**kwargs) -> Pipeline:
    """Select the training window, build its features and fit the configured model."""
    return Pipeline(
        [
            window_features("train", "sub_churn_primary"),
            Node(
                train_model,
                ["train_features", "params:model", "params:train.seed"],
                "sub_churn_model",
                name="train_model",
            ),
            Node(
                in_sample_report,
                [
                    "sub_churn_model",
                    "train_features",
                    "params:score.threshold",
                    "params:game",
                ],
                ["in_sample_score_report", "in_sample_metrics"],
                name="report_in_sample_score",
            ),
            Node(
                mlflow_metrics,
                "in_sample_metrics",
                "in_sample_mlflow_metrics",
                name="track_in_sample_metrics",
            ),
            Node(
                model_for_tracking,
                ["sub_churn_model", "train_features"],
                "sub_churn_logged_model",
                name="log_model",
            ),
            Node(training_tags, "sub_churn_model", "training_run_tags", name="tag_run"),
        ],
        tags=["train"],
    )
