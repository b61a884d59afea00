"""What the served model takes: request rows, checked against the data contract.

A request that breaks the contract is refused with a ``RequestError`` naming
the column and the row (0-based, as sent), never answered: a NaN price, an
infinite balance, a negative term or a ``sub_id`` of 3.5 would otherwise come
back as a probability. The domains are the contract's own
(``kedro_ml.core.validation.SCHEMAS``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from kedro_ml.core.features import FEATURE_LIMIT, term_features
from kedro_ml.core.months import is_month_start
from kedro_ml.core.validation import SCHEMAS, Column

MAX_ROWS_SHOWN = 3

# the subscription's own columns: the contract's domains, as in sub_data.csv
TERMS = SCHEMAS["sub_data"].columns


class RequestError(ValueError):
    """A request the served model refuses; the message says what to change."""


def _rows(mask: np.ndarray) -> str:
    rows = np.flatnonzero(mask)
    shown = ", ".join(str(r) for r in rows[:MAX_ROWS_SHOWN])
    more = (
        f" and {len(rows) - MAX_ROWS_SHOWN} more" if len(rows) > MAX_ROWS_SHOWN else ""
    )
    return f"row {shown}{more}" if len(rows) == 1 else f"rows {shown}{more}"


def _fail(column: str, rule: str, mask: np.ndarray) -> None:
    if mask.any():
        raise RequestError(f"column '{column}', {_rows(mask)}: {rule}")


def n_rows(rows: Mapping[str, Any]) -> int:
    """How many rows a DataFrame or a mapping of equally long columns holds."""
    if isinstance(rows, pd.DataFrame):
        return len(rows)
    return len(next(iter(rows.values()))) if len(rows) else 0


def check_size(rows: Mapping[str, Any], max_rows: int) -> None:
    """Refuse an empty request, or one with more than ``max_rows`` rows."""
    n = n_rows(rows)
    if n == 0 or len(rows) == 0:
        raise RequestError(
            "the request holds no rows: send at least one subscription "
            "(see docs/online_request_example.json)"
        )
    if n > max_rows:
        raise RequestError(
            f"the request holds {n} rows, more than the {max_rows} this "
            "server takes at once: split it"
        )


def _missing(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype.kind in "iub":
        return np.zeros(len(values), dtype=bool)
    return pd.isna(values)


def _numbers(values: np.ndarray, column: str) -> np.ndarray:
    """The values as float64; ``RequestError`` for true/false or text."""
    if values.dtype.kind == "b":
        _fail(column, "expected a number, got true/false", np.ones(len(values), bool))
    if values.dtype.kind in "iuf":
        return values.astype(np.float64)
    numbers = np.full(len(values), np.nan)
    bad = np.zeros(len(values), dtype=bool)
    for i, value in enumerate(values):
        if isinstance(value, bool):
            bad[i] = True
        elif not pd.isna(value):  # None and NaN stay missing
            try:
                numbers[i] = float(value)
            except (TypeError, ValueError):
                bad[i] = True
    _fail(column, "expected a number", bad)
    return numbers


def _limits(dtype: str) -> tuple[float, float]:
    info = (np.iinfo if np.dtype(dtype).kind in "iu" else np.finfo)(np.dtype(dtype))
    return float(info.min), float(info.max)


def check_values(values: np.ndarray, column: str, spec: Column) -> np.ndarray:
    """One column's values against the contract; the values, as numbers where numbers."""
    missing = _missing(values)
    if not spec.nullable:
        _fail(column, "must not be empty", missing)
    if spec.kind not in ("int", "float"):
        if spec.allowed is not None:
            allowed = np.isin(values.astype(str), spec.allowed)
            _fail(column, f"must be one of {list(spec.allowed)}", ~missing & ~allowed)
        return values
    numbers = _numbers(values, column)
    present = ~np.isnan(numbers)
    with np.errstate(invalid="ignore"):
        _fail(column, "must be a finite number", ~np.isfinite(numbers) & ~missing)
        if spec.kind == "int":
            _fail(column, "must be a whole number", present & (numbers % 1 != 0))
        if spec.dtype:
            low, high = _limits(spec.dtype)
            _fail(
                column,
                f"must fit {spec.dtype} ({low:g} .. {high:g})",
                present & ((numbers < low) | (numbers > high)),
            )
        if spec.min_value is not None:
            _fail(
                column,
                f"must be >= {spec.min_value:g}",
                present & (numbers < spec.min_value),
            )
        if spec.max_value is not None:
            _fail(
                column,
                f"must be at most {spec.max_value:g}: the features computed from "
                "larger values overflow",
                present & (numbers > spec.max_value),
            )
    return numbers


def check_column(rows: Mapping[str, Any], column: str, spec: Column) -> np.ndarray:
    """One column of ``rows`` (a DataFrame or a mapping of arrays) against the contract."""
    if column not in rows:
        raise RequestError(f"column '{column}' is missing from the request")
    return check_values(np.asarray(rows[column]), column, spec)


def check_feature_rows(frame: pd.DataFrame, model: Any, max_rows: int) -> None:
    """Rows of the batch feature table: ``sub_id`` and every column the model reads.

    The subscription's terms follow the contract; every other number is a
    finite value or missing (a character without history has missing
    currency statistics).
    """
    check_size(frame, max_rows)
    absent = [c for c in ("sub_id", *model.feature_names_) if c not in frame]
    if absent:
        raise RequestError(
            f"{'columns' if len(absent) > 1 else 'column'} "
            f"{', '.join(repr(c) for c in absent[:20])}"
            f"{f' and {len(absent) - 20} more' if len(absent) > 20 else ''} "
            f"{'are' if len(absent) > 1 else 'is'} missing from the request"
        )
    check_column(frame, "sub_id", TERMS["sub_id"])
    for column in model.feature_names_:
        if column in TERMS:
            check_column(frame, column, TERMS[column])
        elif column not in frame:
            raise RequestError(f"column '{column}' is missing from the request")
        elif pd.api.types.is_numeric_dtype(frame[column]) or frame[column].isna().all():
            numbers = _numbers(frame[column].to_numpy(), column)
            _fail(column, "must be a finite number or missing", np.isinf(numbers))
            with np.errstate(invalid="ignore"):
                _fail(
                    column,
                    f"must be within +-{FEATURE_LIMIT:g}",
                    np.abs(numbers) > FEATURE_LIMIT,
                )


# what an online request holds: the character, the subscription's terms, and
# optionally its id and start month
ONLINE_FIELDS = (
    "char_id",
    *(name for name in TERMS if name not in ("sub_id", "char_id", "sub_start_date")),
)
OPTIONAL_FIELDS = ("sub_id", "sub_start_date")


def is_online_request(rows: Mapping[str, Any], model: Any) -> bool:
    """True when ``rows`` hold requests (a character and terms), not feature rows.

    Feature rows carry the model's columns beyond a subscription's terms (its
    currency statistics); a request carries none of them.
    """
    beyond_terms = set(model.feature_names_) - set(TERMS)
    return "char_id" in rows and not beyond_terms & set(rows)


def check_online_rows(
    rows: Mapping[str, Any], max_rows: int, month: pd.Timestamp
) -> dict[str, np.ndarray]:
    """Requests, checked against the contract and typed as batch prediction types them.

    ``sub_start_date`` is the month the online store is as of (``month``),
    its default: the store holds what that month's features need, and
    nothing for another month. A request without ``sub_id`` gets a temporary
    negative one, answered as null.
    """
    check_size(rows, max_rows)
    unknown = sorted(set(rows) - set(ONLINE_FIELDS) - set(OPTIONAL_FIELDS))
    if unknown:
        raise RequestError(
            f"unknown field(s) {unknown}: a request holds {list(ONLINE_FIELDS)} and "
            f"optionally {list(OPTIONAL_FIELDS)}"
        )
    absent = [name for name in ONLINE_FIELDS if name not in rows]
    if absent:
        raise RequestError(
            f"{'columns' if len(absent) > 1 else 'column'} "
            f"{', '.join(repr(name) for name in absent)} "
            f"{'are' if len(absent) > 1 else 'is'} missing from the request: a request "
            f"holds {list(ONLINE_FIELDS)} and optionally {list(OPTIONAL_FIELDS)}"
        )
    typed = {}
    for name in ONLINE_FIELDS:
        spec = TERMS[name]
        values = check_column(rows, name, spec)
        typed[name] = (
            values.astype(str).astype(object)
            if spec.kind == "str"
            else values.astype(spec.dtype)
        )
    n = n_rows(rows)
    if "sub_id" in rows and not _missing(np.asarray(rows["sub_id"])).all():
        ids = check_column(rows, "sub_id", TERMS["sub_id"]).astype(np.int64)
        _, first, counts = np.unique(ids, return_index=True, return_counts=True)
        twice = np.isin(ids, ids[first[counts > 1]])
        _fail("sub_id", "appears twice in the request", twice)
        sub_ids = ids.astype(np.int32)
    else:
        sub_ids = -np.arange(1, n + 1, dtype=np.int32)
    _check_start_months(rows, month)
    _check_term_features(typed)
    return {
        "sub_id": sub_ids,
        **typed,
        "sub_start_date": np.full(n, np.datetime64(month, "s")),
    }


def _check_term_features(typed: Mapping[str, np.ndarray]) -> None:
    """Terms whose features leave the range the model computes with, named as batch names them."""
    for feature, values in term_features(typed).items():
        numbers = np.abs(np.asarray(values, dtype=np.float64))
        with np.errstate(invalid="ignore"):
            _fail(
                "price",
                f"makes the feature {feature} out of range (beyond {FEATURE_LIMIT:g})",
                np.isinf(numbers) | (numbers > FEATURE_LIMIT),
            )


def _check_start_months(rows: Mapping[str, Any], month: pd.Timestamp) -> None:
    """Every ``sub_start_date`` given is ``month`` (``YYYY-MM-01``, or a longer ISO time that day)."""
    if "sub_start_date" not in rows:
        return
    given = np.asarray(rows["sub_start_date"])
    if given.dtype.kind == "M":  # dates already (a DataFrame's, or MLflow's schema)
        missing = np.isnat(given)
        values = np.where(missing, None, given.astype("datetime64[D]")).astype(object)
    else:
        values = given.astype(object)
        missing = pd.isna(values)
    if missing.all():
        return
    stamps = np.full(len(values), np.datetime64(month, "D"))
    bad = np.zeros(len(values), dtype=bool)
    for i in np.flatnonzero(~missing):
        value = values[i]
        try:
            if isinstance(value, str):
                stamps[i] = np.datetime64(value[:10], "D")
            elif isinstance(value, dt.date | np.datetime64):
                stamps[i] = np.datetime64(value, "D")
            else:
                raise TypeError(value)
        except (TypeError, ValueError):
            bad[i] = True
    _fail("sub_start_date", "expected an ISO date YYYY-MM-01", bad)
    _fail(
        "sub_start_date",
        "expected the first day of a month",
        ~is_month_start(stamps),
    )
    expected = np.datetime64(month, "D")
    _fail(
        "sub_start_date",
        f"is before {month.date()}, the month the online store is as of: the store "
        "holds no features for an earlier month",
        stamps < expected,
    )
    _fail(
        "sub_start_date",
        f"is after {month.date()}, the month the online store is as of: refresh the "
        "store for that month (kedro run -p sub_churn_refresh_online_store)",
        stamps > expected,
    )


def model_input_example(
    model: Any, features: pd.DataFrame, rows: int = 5
) -> pd.DataFrame:
    """A few feature rows, JSON-friendly: ``sub_id``, ``char_id``, the terms and every column the model reads.

    They answer as feature rows; their ``char_id`` and terms are also what an
    online request holds.
    """
    columns = list(
        dict.fromkeys(["sub_id", "char_id", *ONLINE_FIELDS, *model.feature_names_])
    )
    example = features[[c for c in columns if c in features]].head(rows).copy()
    for column in example.select_dtypes(include=["category"]).columns:
        example[column] = example[column].astype(str)
    # numbers arrive as JSON doubles, and integer features may be missing: declare doubles
    numeric = example.select_dtypes(include=["number"]).columns.drop(
        ["sub_id", "char_id"], errors="ignore"
    )
    example[numeric] = example[numeric].astype("float64")
    return example.reset_index(drop=True)
