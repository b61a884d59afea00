"""Pipeline ``sub_churn_promote``: the model registry's champion follows the best model."""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    candidate_for_registry,
    decide_promotion,
    promotion_metrics,
    score_champion,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Score the champion on the candidate's window, decide, register the candidate."""
    return Pipeline(
        [
            Node(
                score_champion,
                ["champion_model", "score_features"],
                "champion_score",
                name="score_champion",
            ),
            Node(
                decide_promotion,
                ["score_metrics", "champion_score", "params:promotion"],
                "promotion_decision",
                name="decide_promotion",
            ),
            Node(
                candidate_for_registry,
                ["sub_churn_model", "score_features", "promotion_decision"],
                "model_registry",
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
