"""``sub_churn_score_game2``: the original project's name for game 2's ``sub_churn_score``.

Kept so existing commands work: ``kedro run --env=game2_env -p sub_churn_score_game2``.
Outside ``game2_env`` the run stops before any node (``kedro_ml.hooks``).
"""

from kedro_ml.pipelines.sub_churn_score import create_pipeline

__all__ = ["create_pipeline"]
