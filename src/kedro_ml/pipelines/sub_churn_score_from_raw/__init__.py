"""``sub_churn_score_from_raw``: the standard features, ``sub_churn_score`` and ``sub_churn_promote``."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
