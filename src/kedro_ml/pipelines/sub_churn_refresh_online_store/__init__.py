"""``sub_churn_refresh_online_store``: what the online model looks up, per character, as of a month."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
