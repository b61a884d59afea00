"""``sub_churn_score_from_raw``: the standard features followed by ``sub_churn_score``."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
