"""Nodes of ``sub_churn_standard_features`` on hand-made frames."""

from __future__ import annotations

import pandas as pd
import pytest

from kedro_ml.core.validation import RawDataError
from kedro_ml.pipelines.sub_churn_standard_features.nodes import (
    build_churn_labels,
    validate_characters,
    validate_sub_data,
    validate_sub_miss,
)

D = pd.Timestamp


def _subs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sub_id": [1, 2],
            "sub_start_date": [D("2017-01-01")] * 2,
            "sub_months": [1, 1],
        }
    )


def _no_misses() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sub_id": pd.Series([], dtype="int32"),
            "start_date": pd.to_datetime([]),
            "end_date": pd.to_datetime([]),
        }
    )


def test_labels_default_to_the_last_currency_month():
    # a one-month term from January is settled once March is in the data
    currency = pd.DataFrame({"date": [D("2017-01-01"), D("2017-03-01")]})
    latest = {"as_of": None, "horizon_months": None}
    assert build_churn_labels(_subs(), _no_misses(), currency, latest)[
        "sub_churn"
    ].tolist() == [0, 0]
    earlier = build_churn_labels(
        _subs(), _no_misses(), currency, {"as_of": "2017-02-01", "horizon_months": None}
    )
    assert earlier["sub_churn"].isna().all()
    assert set(earlier["label_state"].astype(str)) == {"unsettled"}


def test_miss_runs_must_be_in_date_order_and_for_known_subscriptions():
    miss = pd.DataFrame(
        {"sub_id": [1], "start_date": ["2017-03-01"], "end_date": ["2017-02-01"]}
    )
    with pytest.raises(RawDataError, match="'end_date': must not be before start_date"):
        validate_sub_miss(miss, _subs(), [])
    orphan = pd.DataFrame(
        {"sub_id": [9], "start_date": ["2017-03-01"], "end_date": ["2017-03-01"]}
    )
    with pytest.raises(RawDataError, match="ids missing from sub_data.csv"):
        validate_sub_miss(orphan, _subs(), [])


def _characters(created: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "char_id": [7],
            "gender": ["F"],
            "race": ["A"],
            "class": ["W"],
            "territory": [1],
            "creation_date": [created],
            "class_mastery_date": [None],
            "total_kills": [1],
            "total_deaths": [1],
        }
    )


def _sub_data() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sub_id": [1, 2],
            "char_id": [7, 7],
            "sub_start_date": ["2017-01-01", "2017-03-01"],
            "sub_type": ["hard", "soft"],
            "sub_months": [1, 1],
            "sub_size": [100, 100],
            "price": [4.99, 4.99],
            "num_hard_currency": [100.0, 0.0],
            "num_soft_currency": [0.0, 1000.0],
        }
    )


def test_a_subscription_before_its_character_stops_the_run_by_default():
    characters = validate_characters(_characters("2017-02-14"))
    with pytest.raises(
        RawDataError, match=r"sub_data\.csv.*'sub_start_date'.*creation month"
    ) as info:
        validate_sub_data(_sub_data(), characters, {"impossible_rows": "error"})
    assert "line 2: sub_id=1" in str(info.value)


def test_with_drop_impossible_rows_are_left_out_with_their_runs_and_counted():
    characters = validate_characters(_characters("2017-02-14"))
    kept, dropped = validate_sub_data(
        _sub_data(), characters, {"impossible_rows": "drop"}
    )
    assert kept["sub_id"].tolist() == [2] and dropped == [1]
    miss = pd.DataFrame(
        {
            "sub_id": [1, 2],
            "start_date": ["2017-01-01", "2017-03-01"],
            "end_date": ["2017-01-01", "2017-03-01"],
        }
    )
    runs, counts = validate_sub_miss(miss, kept, dropped)
    assert runs["sub_id"].tolist() == [2]
    assert counts == {"impossible_subscriptions_dropped": 1, "sub_miss_rows_dropped": 1}
