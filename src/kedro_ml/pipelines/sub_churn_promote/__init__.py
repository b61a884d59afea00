"""``sub_churn_promote``: register the scored candidate; promote it to champion if it wins."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
