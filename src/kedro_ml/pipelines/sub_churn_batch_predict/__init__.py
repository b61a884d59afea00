"""``sub_churn_batch_predict``."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
