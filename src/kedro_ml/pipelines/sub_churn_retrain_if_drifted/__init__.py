"""``sub_churn_retrain_if_drifted``: retrain, score and promote when the last drift report says so."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
