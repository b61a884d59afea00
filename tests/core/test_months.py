"""Months of date columns: the looked-up path against a plain per-date reference."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from kedro_ml.core import months
from kedro_ml.core.months import NAT, is_month_start, month_index


def _reference(stamps: np.ndarray) -> tuple[list[int], list[bool]]:
    """Month index and first-of-month, one Python datetime at a time."""
    index, first = [], []
    for value in stamps:
        if np.isnat(value):
            index.append(NAT)
            first.append(False)
            continue
        seconds = int(value.astype("datetime64[s]").astype(np.int64))
        when = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=seconds)
        index.append(when.year * 12 + when.month - 1)
        first.append(when.day == 1 and when.time() == dt.time(0))
    return index, first


def _stamps(
    unit: str, n: int, seed: int, span_days: int, nat_share: float
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    days = rng.integers(-span_days // 2, span_days // 2, n) + 17_000  # around 2016
    first = np.datetime64("1970-01-01", "D") + days
    # a third on the 1st of their month, some at midnight, the rest at any second
    on_first = rng.random(n) < 0.35
    first = np.where(
        on_first, first.astype("datetime64[M]").astype("datetime64[D]"), first
    )
    seconds = np.where(rng.random(n) < 0.6, 0, rng.integers(0, 86_400, n))
    stamps = first.astype("datetime64[s]") + seconds.astype("timedelta64[s]")
    stamps[rng.random(n) < nat_share] = np.datetime64("NaT")
    return stamps.astype(f"datetime64[{unit}]")


@pytest.mark.parametrize("unit", ["s", "ms", "ns"])
@pytest.mark.parametrize(
    ("span_days", "nat_share"),
    [(800, 0.0), (800, 0.05), (70_000, 0.01), (3, 0.0)],
)
def test_lookup_matches_the_reference(monkeypatch, unit, span_days, nat_share):
    """Before 1970 and after, NaT, times of day, spans wider than the rows (NumPy's path)."""
    monkeypatch.setattr(months, "TABLE_MIN_ROWS", 1)
    stamps = _stamps(
        unit, 5_000, seed=span_days, span_days=span_days, nat_share=nat_share
    )
    index, first = _reference(stamps)
    assert month_index(stamps).tolist() == index
    assert is_month_start(stamps).tolist() == first
    as_series = pd.Series(stamps)
    assert month_index(as_series).tolist() == index
    assert is_month_start(as_series).tolist() == first


def test_both_paths_agree_at_the_default_threshold():
    stamps = _stamps(
        "s", months.TABLE_MIN_ROWS + 10, seed=3, span_days=900, nat_share=0.02
    )
    small = stamps[:1_000]
    index, first = _reference(small)
    assert month_index(small).tolist() == index
    assert month_index(stamps)[:1_000].tolist() == index
    assert is_month_start(stamps)[:1_000].tolist() == first


def test_all_nat_and_empty():
    nat = np.full(70_000, np.datetime64("NaT"), dtype="datetime64[s]")
    assert (month_index(nat) == NAT).all()
    assert not is_month_start(nat).any()
    empty = np.array([], dtype="datetime64[s]")
    assert month_index(empty).tolist() == []
    assert is_month_start(empty).tolist() == []


def test_dates_not_yet_datetime64():
    values = pd.Series(
        [pd.Timestamp("2017-03-01"), pd.Timestamp("2017-03-02")], dtype=object
    )
    assert month_index(values).tolist() == [2017 * 12 + 2] * 2
    assert is_month_start(values).tolist() == [True, False]
