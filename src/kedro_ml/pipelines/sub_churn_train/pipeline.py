"""Pipeline ``sub_churn_train``: training window features, labels as of the cutoff, model."""

from kedro.pipeline import Node, Pipeline

from kedro_ml.core.metrics import mlflow_metrics
from kedro_ml.pipelines.window_features import window_features

from .nodes import (
    in_sample_report,
    label_training_rows,
    model_for_tracking,
    train_model,
    training_run_params,
    training_tags,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Select the training window, label it as known at the cutoff, fit the configured model."""
    return Pipeline(
        [
            window_features("train", "subscription_features"),
            Node(
                label_training_rows,
                [
                    "train_features",
                    "sub_miss_validated",
                    "params:train.label_as_of",
                    "params:score.window",
                    "params:labels.horizon_months",
                ],
                ["train_table", "training_labels"],
                name="label_training_rows",
            ),
            Node(
                train_model,
                [
                    "train_table",
                    "params:model",
                    "params:features.windows_months",
                    "params:train.seed",
                ],
                "sub_churn_model",
                name="train_model",
            ),
            Node(
                in_sample_report,
                [
                    "sub_churn_model",
                    "train_table",
                    "training_labels",
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
                ["sub_churn_model", "train_table"],
                "sub_churn_logged_model",
                name="log_model",
            ),
            Node(
                training_run_params,
                "training_labels",
                "training_run_params",
                name="track_training_labels",
            ),
            Node(training_tags, "sub_churn_model", "training_run_tags", name="tag_run"),
        ],
        tags=["train"],
    )
