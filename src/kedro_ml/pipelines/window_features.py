"""Nodes shared by train, score and batch predict: a time window and its features.

Each of those pipelines selects its subscriptions by its own ``window`` and
adds the same point-in-time currency features, through these two nodes.
"""

from __future__ import annotations

import logging
from functools import partial, update_wrapper

import pandas as pd
from kedro.pipeline import Node, Pipeline

from kedro_ml.features import feature_table, select_window

logger = logging.getLogger(__name__)


def select_subscriptions(
    subscriptions: pd.DataFrame, window: dict, key: str = "window"
) -> pd.DataFrame:
    """Subscriptions starting inside the window; fails when it selects none."""
    selected = select_window(subscriptions, window)
    if selected.empty:
        raise ValueError(
            f"{key} {window['date_start']}..{window['date_end']} selects no subscriptions "
            f"(data has {subscriptions['sub_start_date'].min().date()}.."
            f"{subscriptions['sub_start_date'].max().date()}); change the window's dates"
        )
    logger.info(
        "Window %s..%s: %d subscriptions",
        window["date_start"],
        window["date_end"],
        len(selected),
    )
    return selected


def add_currency_features(
    subscriptions: pd.DataFrame, currency: pd.DataFrame, features: dict
) -> pd.DataFrame:
    """The subscriptions with point-in-time currency features appended."""
    return feature_table(subscriptions, currency, features["windows_months"])


def window_feature_pipeline(stage: str, source: str) -> Pipeline:
    """Nodes selecting ``params:<stage>.window`` from ``source`` into ``<stage>_features``."""
    return Pipeline(
        [
            Node(
                update_wrapper(
                    partial(select_subscriptions, key=f"{stage}.window"),
                    select_subscriptions,
                ),
                [source, f"params:{stage}.window"],
                f"{stage}_subscriptions",
                name=f"select_{stage}_subscriptions",
            ),
            Node(
                add_currency_features,
                [f"{stage}_subscriptions", "currency_monthly", "params:features"],
                f"{stage}_features",
                name=f"build_{stage}_features",
            ),
        ]
    )
