"""Composite ``sub_churn_train_from_raw``: raw tables through ``sub_churn_train``."""

from kedro.pipeline import Pipeline

from kedro_ml.pipelines import sub_churn_standard_features, sub_churn_train


def create_pipeline(**kwargs) -> Pipeline:
    """The sum of the standard features and the train pipelines (no node is copied)."""
    return (
        sub_churn_standard_features.create_pipeline()
        + sub_churn_train.create_pipeline()
    )
