"""Property-based tests of the point-in-time currency features (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kedro_ml.core.features import CURRENCY_COLUMNS, currency_features

WINDOWS = [1, 3, 6]
FIRST = pd.Timestamp("2016-01-01")
amount = st.floats(min_value=0, max_value=1e7, allow_nan=False, allow_infinity=False)


@st.composite
def histories(draw, min_months: int = 1):
    """Currency rows for a few characters over consecutive months, and their subscriptions."""
    n_chars = draw(st.integers(1, 4))
    rows, subs = [], []
    for char in range(1, n_chars + 1):
        start = draw(st.integers(0, 6))
        months = draw(st.integers(min_months, 14))
        for m in range(start, start + months):
            rows.append(
                {
                    "char_id": char,
                    "date": FIRST + pd.DateOffset(months=m),
                    **{c: draw(amount) for c in CURRENCY_COLUMNS},
                }
            )
        sub_month = draw(st.integers(start, start + months + 2))
        subs.append(
            {
                "sub_id": 100 + char,
                "char_id": char,
                "sub_start_date": FIRST + pd.DateOffset(months=sub_month),
            }
        )
    return pd.DataFrame(rows), pd.DataFrame(subs)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.data())
def test_rows_from_the_start_month_on_never_change_features(history, data):
    currency, subs = history
    before = currency_features(subs, currency, WINDOWS)
    # rewrite every row dated on or after its character's subscription start
    start = subs.set_index("char_id")["sub_start_date"]
    future = (
        currency["date"].to_numpy() >= start.reindex(currency["char_id"]).to_numpy()
    )
    changed = currency.copy()
    for column in CURRENCY_COLUMNS:
        changed.loc[future, column] = [
            data.draw(amount) for _ in range(int(future.sum()))
        ]
    extra_month = data.draw(st.integers(0, 24))
    added = subs.assign(
        date=subs["sub_start_date"] + pd.DateOffset(months=extra_month)
    )[["char_id", "date"]]
    added = added.assign(**{c: data.draw(amount) for c in CURRENCY_COLUMNS})
    changed = pd.concat([changed, added]).drop_duplicates(
        ["char_id", "date"], keep="first"
    )
    pd.testing.assert_frame_equal(before, currency_features(subs, changed, WINDOWS))


@settings(max_examples=40, deadline=None)
@given(histories(), st.randoms(use_true_random=False))
def test_row_order_does_not_matter(history, rnd):
    currency, subs = history
    order = list(range(len(currency)))
    rnd.shuffle(order)
    pd.testing.assert_frame_equal(
        currency_features(subs, currency, WINDOWS),
        currency_features(subs, currency.iloc[order].reset_index(drop=True), WINDOWS),
    )


@settings(max_examples=40, deadline=None)
@given(histories(min_months=8))
def test_full_history_gives_finite_features(history):
    currency, subs = history
    # subscriptions that start after a full window of history, inside the data
    first = currency.groupby("char_id")["date"].min()
    last = currency.groupby("char_id")["date"].max()
    subs = subs.assign(
        sub_start_date=(first + pd.DateOffset(months=7))
        .clip(upper=last)
        .reindex(subs["char_id"])
        .to_numpy()
    )
    out = currency_features(subs, currency, WINDOWS).drop(columns="sub_id")
    assert np.isfinite(out.to_numpy(dtype=float)).all()
