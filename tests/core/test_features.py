"""Feature logic on hand-made frames: values checked by hand, point-in-time rules."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from kedro_ml.core.features import (
    currency_features,
    feature_table,
    month_index,
    select_window,
    subscription_features,
)

D = pd.Timestamp


def _currency(rows: list[tuple[int, str, float]]) -> pd.DataFrame:
    """Currency rows with ``soft_balance`` from ``rows``; the other columns are 1.0."""
    frame = pd.DataFrame(rows, columns=["char_id", "date", "soft_balance"])
    frame["date"] = pd.to_datetime(frame["date"])
    return frame.assign(hard_balance=1.0, sub_hard=1.0, sub_soft=1.0)


def _subs(rows: list[tuple[int, int, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["sub_id", "char_id", "sub_start_date"])
    frame["sub_start_date"] = pd.to_datetime(frame["sub_start_date"])
    return frame


SIX_MONTHS = [(1, f"2017-0{m}-01", 10.0 * m) for m in range(1, 7)]  # 10, 20, ..., 60


def test_month_index_counts_months_since_year_zero():
    assert month_index(pd.Series([D("2017-01-01"), D("2017-12-31")])).tolist() == [
        2017 * 12,
        2017 * 12 + 11,
    ]


def test_currency_window_values_by_hand():
    subs = _subs([(100, 1, "2017-05-01")])
    out = currency_features(subs, _currency(SIX_MONTHS), [1, 3]).iloc[0]
    # the months before May: April 40, March 30, February 20, January 10
    assert out["soft_balance_last"] == 40
    assert out["soft_balance_diff_1m"] == 10  # 40 - 30
    assert out["soft_balance_diff_3m"] == 30  # 40 - 10
    assert out["soft_balance_mean_3m"] == 30  # (40 + 30 + 20) / 3
    assert out["soft_balance_min_3m"] == 20
    assert out["soft_balance_max_3m"] == 40
    assert out["soft_balance_std_3m"] == pytest.approx(math.sqrt(200 / 3), rel=1e-6)
    assert out["currency_months_seen"] == 3
    assert "soft_balance_mean_1m" not in out.index  # a one-month mean is just `last`


def test_currency_windows_skip_missing_months_and_empty_values():
    rows = [r for r in SIX_MONTHS if r[1] != "2017-03-01"]
    currency = _currency(rows)
    currency.loc[currency["date"] == "2017-02-01", "hard_balance"] = np.nan
    out = currency_features(_subs([(100, 1, "2017-05-01")]), currency, [1, 3]).iloc[0]
    assert out["soft_balance_mean_3m"] == 30  # (40 + 20) / 2, March is missing
    assert math.isnan(out["soft_balance_diff_1m"])  # no March value to compare with
    assert out["currency_months_seen"] == 2
    assert out["hard_balance_mean_3m"] == 1  # only April has a hard balance


def test_character_without_history_gets_missing_values_not_errors():
    out = currency_features(
        _subs([(100, 2, "2017-05-01")]), _currency(SIX_MONTHS), [1, 3]
    ).iloc[0]
    assert out["currency_months_seen"] == 0
    assert math.isnan(out["soft_balance_last"]) and math.isnan(
        out["soft_balance_mean_3m"]
    )


def test_rows_on_or_after_the_start_month_cannot_change_features():
    subs = _subs([(100, 1, "2017-04-01"), (101, 2, "2017-03-01")])
    base = _currency([*SIX_MONTHS[:3], (2, "2017-01-01", 5.0), (2, "2017-02-01", 7.0)])
    before = currency_features(subs, base, [1, 3, 6])
    future = _currency(
        [
            *SIX_MONTHS[3:],  # April..June for character 1
            (2, "2017-03-01", 1e9),
            (2, "2018-01-01", -4.0),
        ]
    )
    changed = pd.concat([future, base]).reset_index(drop=True)  # unsorted on purpose
    after = currency_features(subs, changed, [1, 3, 6])
    pd.testing.assert_frame_equal(before, after)


def test_same_subscription_gets_the_same_features_in_every_window():
    currency = _currency(SIX_MONTHS)
    all_subs = _subs([(100, 1, "2017-03-01"), (101, 1, "2017-06-01")])
    train = feature_table(
        select_window(all_subs, {"date_start": "2017-01-01", "date_end": "2017-06-01"}),
        currency,
        [1, 3],
    )
    batch = feature_table(
        select_window(all_subs, {"date_start": "2017-06-01", "date_end": "2017-06-01"}),
        currency,
        [1, 3],
    )
    pd.testing.assert_frame_equal(
        train[train["sub_id"] == 101].reset_index(drop=True),
        batch.reset_index(drop=True),
    )


def test_select_window_is_inclusive_and_rejects_reversed_dates():
    subs = _subs([(1, 1, "2017-01-01"), (2, 1, "2017-02-01"), (3, 1, "2017-03-01")])
    assert select_window(subs, {"date_start": "2017-01-01", "date_end": "2017-02-01"})[
        "sub_id"
    ].tolist() == [1, 2]
    with pytest.raises(ValueError, match="after date_end"):
        select_window(subs, {"date_start": "2017-03-01", "date_end": "2017-01-01"})


def _characters() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "char_id": [1, 2],
            "gender": ["M", "F"],
            "race": ["A", "B"],
            "class": ["W", "T"],
            "territory": [3, 4],
            "creation_date": [D("2016-11-15"), D("2017-01-03")],
            "class_mastery_date": [D("2017-02-10"), pd.NaT],
            "total_kills": [10, 3],
            "total_deaths": [5, 0],
        }
    )


def _sub_data() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sub_id": [1, 2, 3],
            "char_id": [1, 1, 2],
            "sub_start_date": [D("2017-01-01"), D("2017-03-01"), D("2017-02-01")],
            "sub_type": ["hard", "soft", "balanced"],
            "sub_months": [3, 2, 1],
            "sub_size": [100, 200, 300],
            "price": [10.0, 5.0, 0.0],
            "num_hard_currency": [100.0, 0.0, 150.0],
            "num_soft_currency": [0.0, 2000.0, 1500.0],
        }
    )


def test_subscription_features_by_hand():
    out = subscription_features(_characters(), _sub_data()).set_index("sub_id")
    assert out["age_months"].tolist() == [2, 4, 1]  # Nov->Jan, Nov->Mar, Jan->Feb
    assert out["mastered"].tolist() == [0, 1, 0]  # mastered in Feb: known in March only
    assert out.loc[2, "months_since_mastery"] == 1 and math.isnan(
        out.loc[1, "months_since_mastery"]
    )
    assert out["n_prior_subs"].tolist() == [0, 1, 0]
    assert out["is_first_sub"].tolist() == [1, 0, 1]
    assert out["kd_ratio"].tolist() == [2.0, 2.0, 3.0]  # no deaths counts as one
    assert out["profit"].tolist() == [30.0, 10.0, 0.0]
    assert out.loc[1, "hard_per_price"] == 10.0 and math.isnan(
        out.loc[3, "hard_per_price"]
    )  # free: no ratio
    assert out.loc[3, "class"] == "T"


def test_subscription_features_do_not_mutate_inputs():
    chars, subs = _characters(), _sub_data()
    chars_copy, subs_copy = chars.copy(), subs.copy()
    subscription_features(chars, subs)
    pd.testing.assert_frame_equal(chars, chars_copy)
    pd.testing.assert_frame_equal(subs, subs_copy)


def test_no_currency_rows_at_all_give_missing_values_not_errors():
    subs = _subs([(100, 1, "2017-04-01")])
    empty = _currency([])
    out = currency_features(subs, empty, [1, 3]).iloc[0]
    assert out["currency_months_seen"] == 0
    assert math.isnan(out["soft_balance_last"]) and math.isnan(
        out["soft_balance_net_3m"]
    )
