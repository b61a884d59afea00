"""``sub_churn_synthesize``: deterministic synthetic raw tables with a known churn signal."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
