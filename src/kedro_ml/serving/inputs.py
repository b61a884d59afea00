"""What the served model takes: request rows, checked against the data contract.

A request that breaks the contract is refused with a ``RequestError`` naming
the column and the row (0-based, as sent), never answered: a NaN price, an
infinite balance, a negative term or a ``sub_id`` of 3.5 would otherwise come
back as a probability. The domains are the contract's own
(``kedro_ml.core.validation.SCHEMAS``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

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


def check_size(frame: pd.DataFrame, max_rows: int) -> None:
    """Refuse an empty request, or one with more than ``max_rows`` rows."""
    if len(frame) == 0 or len(frame.columns) == 0:
        raise RequestError(
            "the request holds no rows: send at least one subscription "
            "(see docs/online_request_example.json)"
        )
    if len(frame) > max_rows:
        raise RequestError(
            f"the request holds {len(frame)} rows, more than the {max_rows} this "
            "server takes at once: split it"
        )


def _numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    values = frame[column]
    if pd.api.types.is_bool_dtype(values):
        _fail(column, "expected a number, got true/false", np.ones(len(values), bool))
    numbers = pd.to_numeric(values, errors="coerce")
    _fail(column, "expected a number", (values.notna() & numbers.isna()).to_numpy())
    return numbers.to_numpy(dtype=np.float64, na_value=np.nan)


def check_column(frame: pd.DataFrame, column: str, spec: Column) -> None:
    """One column against the contract: present, in its domain."""
    if column not in frame:
        raise RequestError(f"column '{column}' is missing from the request")
    values = frame[column]
    missing = values.isna().to_numpy()
    if not spec.nullable:
        _fail(column, "must not be empty", missing)
    if spec.kind in ("int", "float"):
        numbers = _numbers(frame, column)
        present = ~np.isnan(numbers)
        with np.errstate(invalid="ignore"):
            _fail(column, "must be a finite number", ~np.isfinite(numbers) & ~missing)
            if spec.kind == "int":
                _fail(column, "must be a whole number", present & (numbers % 1 != 0))
            if spec.dtype:
                kind = np.iinfo if np.dtype(spec.dtype).kind in "iu" else np.finfo
                low, high = (
                    kind(np.dtype(spec.dtype)).min,
                    kind(np.dtype(spec.dtype)).max,
                )
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
    elif spec.allowed is not None:
        _fail(
            column,
            f"must be one of {list(spec.allowed)}",
            ~missing & ~values.astype(str).isin(spec.allowed).to_numpy(),
        )


def check_feature_rows(frame: pd.DataFrame, model: Any, max_rows: int) -> None:
    """Rows of the batch feature table: ``sub_id`` and every column the model reads.

    The subscription's terms follow the contract; every other number is a
    finite value or missing (a character without history has missing
    currency statistics).
    """
    check_size(frame, max_rows)
    check_column(frame, "sub_id", TERMS["sub_id"])
    for column in model.feature_names_:
        if column in TERMS:
            check_column(frame, column, TERMS[column])
        elif column not in frame:
            raise RequestError(f"column '{column}' is missing from the request")
        elif pd.api.types.is_numeric_dtype(frame[column]) or frame[column].isna().all():
            numbers = _numbers(frame, column)
            _fail(
                column,
                "must be a finite number or missing",
                np.isinf(numbers),
            )


def model_input_example(
    model: Any, features: pd.DataFrame, rows: int = 5
) -> pd.DataFrame:
    """A few rows with exactly the columns the model reads (plus ``sub_id``), JSON-friendly."""
    columns = ["sub_id", *model.feature_names_]
    example = features[columns].head(rows).copy()
    for column in example.select_dtypes(include=["category"]).columns:
        example[column] = example[column].astype(str)
    # numbers arrive as JSON doubles, and integer features may be missing: declare doubles
    numeric = example.select_dtypes(include=["number"]).columns.drop(
        "sub_id", errors="ignore"
    )
    example[numeric] = example[numeric].astype("float64")
    return example.reset_index(drop=True)
