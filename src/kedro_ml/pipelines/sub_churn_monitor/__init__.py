"""``sub_churn_monitor``: drift between the training window and the batch, and a retraining signal."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
