"""``sub_churn_train_from_raw``: the standard features followed by ``sub_churn_train``."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
