"""The window template's nodes: a window that selects nothing names its key and the data's span."""

from __future__ import annotations

import pandas as pd
import pytest

from kedro_ml.pipelines.window_features.nodes import select_subscriptions

SUBS = pd.DataFrame(
    {
        "sub_id": [1, 2, 3],
        "sub_start_date": pd.to_datetime(["2016-01-01", "2016-02-01", "2016-03-01"]),
    }
)


def test_the_window_keeps_the_subscriptions_starting_inside_it():
    window = {"date_start": "2016-02-01", "date_end": "2016-03-01"}
    assert select_subscriptions(SUBS, window)["sub_id"].tolist() == [2, 3]


def test_a_window_selecting_nothing_names_its_key_and_the_span():
    window = {"date_start": "2017-01-01", "date_end": "2017-02-01"}
    with pytest.raises(ValueError) as info:
        select_subscriptions(SUBS, window, key="score.window")
    assert str(info.value).startswith(
        "score.window 2017-01-01..2017-02-01 selects no subscriptions "
        "(the data has 2016-01-01..2016-03-01)"
    )


def test_the_node_names_its_spark_twin():
    assert select_subscriptions.spark_twin == "select_subscriptions"
    assert select_subscriptions.takes_spark is True
