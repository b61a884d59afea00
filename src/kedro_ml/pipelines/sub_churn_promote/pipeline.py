"""Pipeline ``sub_churn_promote``: the model registry's champion follows the best model."""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    decide_promotion,
    promotion_metrics,
    promotion_request,
    score_champion,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Score the champion on the candidate's window, decide, register (and promote) the candidate."""
    return Pipeline(
        [
            Node(
                score_champion,
                ["current_champion", "score_features"],
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
