"""Pipeline ``sub_churn_promote``: the model registry's champion follows the best model."""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    compare_with_champion,
    decide_promotion,
    promotion_metrics,
    promotion_request,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Compare candidate and champion on the scored rows, decide, register (and promote)."""
    return Pipeline(
        [
            Node(
                compare_with_champion,
                [
                    "current_champion",
                    "score_predictions",
                    "score_features",
                    "params:promotion.confidence",
                ],
                "champion_comparison",
                name="compare_with_champion",
            ),
            Node(
                decide_promotion,
                ["score_metrics", "champion_comparison", "params:promotion"],
                "promotion_decision",
                name="decide_promotion",
            ),
            Node(
                promotion_request,
                ["sub_churn_model", "promotion_decision"],
                "champion_model@promotion",
                name="register_candidate",
            ),
            Node(
                promotion_metrics,
                "promotion_decision",
                "promotion_mlflow_metrics",
                name="track_promotion",
            ),
        ],
        tags=["promote"],
    )
