"""Composite ``sub_churn_score_from_raw``: raw tables through scoring and promotion."""

from kedro.pipeline import Pipeline

from kedro_ml.pipelines import (
    sub_churn_promote,
    sub_churn_score,
    sub_churn_standard_features,
)


def create_pipeline(**kwargs) -> Pipeline:
    """The sum of the standard features, score and promote pipelines (no node is copied)."""
    return (
        sub_churn_standard_features.create_pipeline()
        + sub_churn_score.create_pipeline()
        + sub_churn_promote.create_pipeline()
    )
