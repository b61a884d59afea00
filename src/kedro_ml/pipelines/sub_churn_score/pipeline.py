"""Pipeline ``sub_churn_score``: out-of-time evaluation of the trained model."""

from kedro.pipeline import Node, Pipeline

from kedro_ml.core.metrics import mlflow_metrics
from kedro_ml.pipelines.window_features import window_features

from .nodes import (
    compute_feature_importance,
    evaluate_scores,
    plot_calibration,
    plot_precision_recall,
    plot_roc,
    predict_scores,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Predict the score window and report metrics, plots and feature importance."""
    return Pipeline(
        [
            window_features("score", "sub_churn_primary"),
            Node(
                predict_scores,
                ["sub_churn_model", "score_features"],
                "score_predictions",
                name="predict_scores",
            ),
            Node(
                evaluate_scores,
                [
                    "score_predictions",
                    "sub_churn_truth",
                    "params:score.threshold",
                    "params:game",
                ],
                ["score_metrics", "score_report"],
                name="evaluate_scores",
            ),
            Node(
                mlflow_metrics,
                "score_metrics",
                "score_mlflow_metrics",
                name="track_score_metrics",
            ),
            Node(plot_roc, "score_predictions", "score_roc_plot", name="plot_roc"),
            Node(
                plot_precision_recall,
                "score_predictions",
                "score_pr_plot",
                name="plot_precision_recall",
            ),
            Node(
                plot_calibration,
                "score_predictions",
                "score_calibration_plot",
                name="plot_calibration",
            ),
            Node(
                compute_feature_importance,
                ["sub_churn_model", "score_features", "params:score.importance"],
                ["feature_importance", "feature_importance_plot"],
                name="compute_feature_importance",
            ),
        ],
        tags=["score"],
    )
