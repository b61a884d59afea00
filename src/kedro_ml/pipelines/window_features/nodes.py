"""Nodes of the window features template: a time window and its point-in-time features.

Given Spark DataFrames (``--env=spark_env``), each node runs its Spark twin
(``kedro_ml.spark.nodes``), which calls the same ``kedro_ml.core`` functions
per bucket of characters.
"""

from __future__ import annotations

import pandas as pd

from kedro_ml.core.features import feature_table, select_window
from kedro_ml.core.stages import log_window, no_subscriptions_in
from kedro_ml.spark import runs_on_spark


@runs_on_spark("select_subscriptions")
def select_subscriptions(
    subscriptions: pd.DataFrame, window: dict, key: str = "window"
) -> pd.DataFrame:
    """Subscriptions starting inside the window; fails, naming ``key``, when it selects none."""
    selected = select_window(subscriptions, window)
    if selected.empty:
        starts = subscriptions["sub_start_date"]
        raise no_subscriptions_in(window, key, starts.min(), starts.max())
    log_window(window, len(selected))
    return selected


@runs_on_spark("add_currency_features")
def add_currency_features(
    subscriptions: pd.DataFrame, currency: pd.DataFrame, windows_months: list[int]
) -> pd.DataFrame:
    """The subscriptions with point-in-time currency features appended."""
    return feature_table(subscriptions, currency, windows_months)
