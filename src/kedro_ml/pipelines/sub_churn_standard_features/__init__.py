"""``sub_churn_standard_features``: validated raw tables, subscription features and labels."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
