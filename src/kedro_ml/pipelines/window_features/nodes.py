"""Nodes of the window features template: a time window and its point-in-time features.

Given Spark DataFrames (``--env=spark_env``), each node runs on Spark: the
same function per bucket of characters (``kedro_ml.spark.nodes``).
"""

from __future__ import annotations

import logging

import pandas as pd

from kedro_ml.core.features import feature_table, select_window
from kedro_ml.spark import runs_on_spark

logger = logging.getLogger(__name__)


@runs_on_spark
def select_subscriptions(
    subscriptions: pd.DataFrame, window: dict, key: str = "window"
) -> pd.DataFrame:
    """Subscriptions starting inside the window; fails, naming ``key``, when it selects none."""
    selected = select_window(subscriptions, window)
    if selected.empty:
        raise ValueError(
            f"{key} {window['date_start']}..{window['date_end']} selects no subscriptions "
            f"(the data has {subscriptions['sub_start_date'].min().date()}.."
            f"{subscriptions['sub_start_date'].max().date()}); change the window's dates"
        )
    logger.info(
        "Window %s..%s: %d subscriptions",
        window["date_start"],
        window["date_end"],
        len(selected),
    )
    return selected


@runs_on_spark
def add_currency_features(
    subscriptions: pd.DataFrame, currency: pd.DataFrame, windows_months: list[int]
) -> pd.DataFrame:
    """The subscriptions with point-in-time currency features appended."""
    return feature_table(subscriptions, currency, windows_months)
