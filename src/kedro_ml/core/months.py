"""Calendar months of date columns, computed once per distinct day.

NumPy converts a ``datetime64`` to months through a civil-calendar conversion
per element: 0.3 s for the 7.9M monthly currency rows of a 1M-character game,
done by validation and again by every feature build. A column of a few
hundred distinct days does that work once per day of its span here, and
looks each row up (0.1 s). Small arrays, arrays spanning more days than they
have rows and arrays that are not ``datetime64`` take NumPy's conversion.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

NAT = np.iinfo(np.int64).min  # NaT's integer value, and month_index's for a NaT
# below this many rows the per-element conversion is as fast as the table
TABLE_MIN_ROWS = 65_536


def _as_array(dates: pd.Series | np.ndarray) -> np.ndarray:
    return np.asarray(dates.to_numpy() if hasattr(dates, "to_numpy") else dates)


def _days(stamps: np.ndarray) -> np.ndarray | None:
    """Each row's day number (days since 1970, NaT as ``NAT``), or None where the table does not pay."""
    if stamps.dtype.kind != "M" or len(stamps) < TABLE_MIN_ROWS:
        return None
    return stamps.astype("datetime64[D]").view(np.int64)


def _per_day(
    days: np.ndarray, of_days: Callable[[np.ndarray], np.ndarray], at_nat: object
) -> np.ndarray | None:
    """``of_days`` (day numbers -> values) for each row's day, or None for a span wider than the rows."""
    nat = days == NAT
    any_nat = bool(nat.any())
    present = days[~nat] if any_nat else days
    if not len(present):
        return np.full(len(days), at_nat)
    low, high = int(present.min()), int(present.max())
    if high - low >= len(days):
        return None
    table = of_days(np.arange(low, high + 1, dtype=np.int64))
    if not any_nat:
        return table[days - low]
    out = table[np.where(nat, 0, days - low)]
    out[nat] = at_nat
    return out


def _months_of_days(days: np.ndarray) -> np.ndarray:
    return days.view("datetime64[D]").astype("datetime64[M]").view(np.int64)


def _is_first_day(days: np.ndarray) -> np.ndarray:
    first = _months_of_days(days).view("datetime64[M]").astype("datetime64[D]")
    return first.view(np.int64) == days


def month_index(dates: pd.Series | np.ndarray) -> np.ndarray:
    """Months since year 0 (year * 12 + month - 1) as int64 (NaT gives int64's minimum)."""
    stamps = _as_array(dates)
    days = _days(stamps)
    if days is not None:
        looked_up = _per_day(
            days, lambda span: _months_of_days(span) + 1970 * 12, at_nat=NAT
        )
        if looked_up is not None:
            return looked_up
    months = stamps.astype("datetime64[M]")
    return np.where(np.isnat(months), NAT, months.astype(np.int64) + 1970 * 12)


def is_month_start(dates: pd.Series | np.ndarray) -> np.ndarray:
    """True where a date is midnight of a month's first day (NaT gives False)."""
    stamps = _as_array(dates)
    if stamps.dtype.kind != "M":
        stamps = stamps.astype("datetime64[s]")
    days = _days(stamps)
    first_day = None if days is None else _per_day(days, _is_first_day, at_nat=False)
    if first_day is None:
        # NaT is never equal to itself
        return stamps.astype("datetime64[M]").astype(stamps.dtype) == stamps
    # midnight: the stamp is its day (NaT is never equal to itself)
    midnight = days.view("datetime64[D]").astype(stamps.dtype) == stamps
    return first_day & midnight
