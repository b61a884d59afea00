"""``window_features``: one time window's subscriptions with their currency features.

A template, instantiated once per stage (train, score, batch predict) under
that stage's namespace.
"""

from .pipeline import create_pipeline, window_features

__all__ = ["create_pipeline", "window_features"]
