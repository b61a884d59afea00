"""Contract checks: typed output, and errors that name file, column, rule and rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kedro_ml.core.validation import (
    SCHEMAS,
    RawDataError,
    check_foreign_keys,
    in_key_order,
    key_codes,
    sort_by_key,
    validate_table,
)


def _sub_data(**changes) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "sub_id": [1, 2, 3],
            "char_id": [10, 10, 11],
            "sub_start_date": ["2017-01-01", "2017-02-01", "2017-03-01"],
            "sub_type": ["hard", "soft", "balanced"],
            "sub_months": [1, 2, 3],
            "sub_size": [100, 200, 300],
            "price": [4.99, 9.99, 0.0],
            "num_hard_currency": [100.0, 0.0, 150.0],
            "num_soft_currency": [0.0, 2000.0, 1500.0],
        }
    )
    for column, values in changes.items():
        frame[column] = values
    return frame


def test_valid_table_is_typed():
    typed = validate_table(_sub_data(), SCHEMAS["sub_data"])
    assert str(typed["sub_id"].dtype) == "int32"
    assert typed["sub_type"].dtype == "category"
    assert typed["sub_start_date"].dtype.kind == "M"


@pytest.mark.parametrize(
    ("changes", "column", "rule"),
    [
        ({"sub_id": [1, 1, 3]}, "sub_id", "duplicate key"),
        ({"price": [4.99, -1.0, 0.0]}, "price", ">= 0"),
        ({"sub_months": ["1", "two", "3"]}, "sub_months", "expected a number"),
        (
            {"sub_start_date": ["2017-01-01", "2017-13-01", "2017-03-01"]},
            "sub_start_date",
            "ISO date",
        ),
        (
            {"sub_start_date": ["2017-01-01", "2017-02-15", "2017-03-01"]},
            "sub_start_date",
            "first day of a month",
        ),
        ({"sub_type": ["hard", "gold", "soft"]}, "sub_type", "must be one of"),
        ({"char_id": [10, None, 11]}, "char_id", "must not be empty"),
    ],
)
def test_errors_name_file_column_rule_and_rows(changes, column, rule):
    with pytest.raises(RawDataError) as info:
        validate_table(_sub_data(**changes), SCHEMAS["sub_data"])
    message = str(info.value)
    assert message.startswith("sub_data.csv (dataset 'sub_data')")
    assert f"column '{column}'" in message and rule in message
    assert "line 3:" in message  # the second data row is line 3 of the file


def test_missing_column_and_empty_table():
    with pytest.raises(RawDataError, match=r"missing column\(s\) \['price'\]"):
        validate_table(_sub_data().drop(columns="price"), SCHEMAS["sub_data"])
    with pytest.raises(RawDataError, match="no rows"):
        validate_table(_sub_data().iloc[0:0], SCHEMAS["sub_data"])


def test_extra_columns_are_kept():
    typed = validate_table(_sub_data(note=["a", "b", "c"]), SCHEMAS["sub_data"])
    assert typed["note"].tolist() == ["a", "b", "c"]


def test_orphan_reference_is_reported():
    typed = validate_table(_sub_data(), SCHEMAS["sub_data"])
    with pytest.raises(
        RawDataError, match="ids missing from character_data.csv"
    ) as info:
        check_foreign_keys(
            typed, SCHEMAS["sub_data"], "char_id", pd.Series([10]), "character_data.csv"
        )
    assert "line 4:" in str(info.value)


def _currency(char_ids, dates) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "char_id": char_ids,
            "date": pd.to_datetime(dates),
            "hard_balance": 1.0,
            "soft_balance": 2.0,
            "sub_hard": 0.0,
            "sub_soft": 0.0,
        }
    )


def test_a_duplicate_key_out_of_order_is_found():
    frame = _currency(
        [2, 1, 2, 1], ["2017-01-01", "2017-01-01", "2017-02-01", "2017-01-01"]
    )
    with pytest.raises(RawDataError, match="duplicate key") as info:
        validate_table(frame, SCHEMAS["character_currency"])
    message = str(info.value)
    assert "2 offending row(s)" in message
    assert "line 3:" in message and "line 5:" in message


def test_rows_are_sorted_by_key_only_when_needed():
    schema = SCHEMAS["character_currency"]
    ordered = validate_table(
        _currency([1, 1, 2], ["2017-01-01", "2017-02-01", "2017-01-01"]), schema
    )
    assert sort_by_key(ordered, schema) is ordered
    shuffled = validate_table(
        _currency([2, 1, 1], ["2017-01-01", "2017-02-01", "2017-01-01"]), schema
    )
    result = sort_by_key(shuffled, schema)
    assert result["char_id"].tolist() == [1, 1, 2]
    assert result["date"].dt.month.tolist() == [1, 2, 1]


@pytest.mark.parametrize("seed", range(40))
def test_key_order_against_sorting_the_tuples(seed):
    """Ties, repeats, ids far beyond a packed key's range, dates with times of day."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 8))
    ids = rng.choice([-(2**62), -1, 0, 3, 2**62], n)
    days = rng.integers(0, 3, n)
    stamps = np.datetime64("2017-01-01T00:00:00") + (
        days * 86_400 + rng.choice([0, 3_600], n)
    ).astype("timedelta64[s]")
    if seed % 2:  # a sorted table half of the time
        order = np.lexsort((stamps, ids))
        ids, days, stamps = ids[order], days[order], stamps[order]
    frame = pd.DataFrame({"char_id": ids, "date": stamps})
    rows = list(zip(ids.tolist(), days.tolist(), strict=True))  # a date is its day
    assert in_key_order(frame, ("char_id", "date"), strict=False) == (
        rows == sorted(rows)
    )
    assert in_key_order(frame, ("char_id", "date"), strict=True) == (
        rows == sorted(rows) and len(set(rows)) == len(rows)
    )


def test_key_order_is_unknown_for_text_and_missing_ids():
    frame = pd.DataFrame({"k": ["a", "b"], "n": pd.array([1, None], dtype="Int64")})
    assert not in_key_order(frame, ("k",), strict=False)
    assert not in_key_order(frame, ("n",), strict=False)


def test_key_codes_order_rows_like_the_key():
    frame = _currency([5, 5, 3], ["2017-03-01", "2016-12-01", "2020-01-01"])
    codes = key_codes(frame, ("char_id", "date"))
    assert list(np.argsort(codes)) == [2, 1, 0]
    assert key_codes(frame.assign(char_id=["a", "b", "c"]), ("char_id",)) is None


@pytest.mark.parametrize("parent", [[10, 11], [10, 10**12]])
def test_foreign_keys_dense_and_sparse_ids(parent):
    typed = validate_table(_sub_data(char_id=[10, 12, 11]), SCHEMAS["sub_data"])
    with pytest.raises(RawDataError, match="ids missing") as info:
        check_foreign_keys(
            typed,
            SCHEMAS["sub_data"],
            "char_id",
            pd.Series(parent),
            "character_data.csv",
        )
    assert "line 3:" in str(info.value)


def test_whole_amounts_in_a_float_column_become_floats():
    typed = validate_table(
        _sub_data(num_hard_currency=[100, 0, 150]), SCHEMAS["sub_data"]
    )
    assert (
        typed["num_hard_currency"].dtype == "float32"
    )  # currency is stored as float32
    assert typed["price"].dtype == "float64"


def _characters(**changes) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "char_id": [10, 11],
            "gender": ["F", "M"],
            "race": ["A", "B"],
            "class": ["W", "T"],
            "territory": [1, 2],
            "creation_date": ["2016-03-04", "2016-05-06"],
            "class_mastery_date": ["2016-09-01", None],
            "total_kills": [5, 6],
            "total_deaths": [1, 2],
        }
    )
    for column, values in changes.items():
        frame[column] = values
    return frame


def _balances(**changes) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "char_id": [10, 10],
            "date": ["2017-01-01", "2017-02-01"],
            "hard_balance": [1.0, 2.0],
            "soft_balance": [10.0, 20.0],
            "sub_hard": [0.0, None],
            "sub_soft": [0.0, 5.0],
        }
    )
    for column, values in changes.items():
        frame[column] = values
    return frame


FRAMES = {
    "sub_data": _sub_data,
    "characters": _characters,
    "character_currency": _balances,
}


@pytest.mark.parametrize(
    ("table", "changes", "column", "rule"),
    [
        ("sub_data", {"price": [4.99, np.inf, 0.0]}, "price", "finite number"),
        ("sub_data", {"price": [4.99, np.nan, 0.0]}, "price", "must not be empty"),
        (
            "sub_data",
            {"num_hard_currency": [100.0, 1e300, 0.0]},
            "num_hard_currency",
            "stored type float32",
        ),
        (
            "sub_data",
            {"sub_months": [1, 4294967295, 3]},
            "sub_months",
            "stored type int32",
        ),
        ("sub_data", {"char_id": [10, 4294967298, 11]}, "char_id", "stored type int32"),
        ("sub_data", {"sub_id": [1.0, 3.5, 2.0]}, "sub_id", "whole number"),
        (
            "sub_data",
            {"sub_start_date": ["2017-01-01", "2099-01-01", "2017-03-01"]},
            "sub_start_date",
            "after today",
        ),
        (
            "characters",
            {"total_kills": [5.0, 1e300]},
            "total_kills",
            "stored type int32",
        ),
        (
            "characters",
            {"creation_date": ["2016-03-04", "2099-03-05"]},
            "creation_date",
            "after today",
        ),
        (
            "character_currency",
            {"soft_balance": [10.0, 1e300]},
            "soft_balance",
            "stored type float32",
        ),
        (
            "character_currency",
            {"hard_balance": [1.0, -np.inf]},
            "hard_balance",
            "finite number",
        ),
        (
            "character_currency",
            {"date": ["2017-01-01", "2099-01-01"]},
            "date",
            "after today",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_values_outside_their_domain_are_named_before_any_cast(
    table, changes, column, rule
):
    schema = SCHEMAS[table]
    with pytest.raises(RawDataError, match=rule) as info:
        validate_table(FRAMES[table](**changes), schema)
    message = str(info.value)
    assert f"{schema.file} (dataset '{table}'), column '{column}'" in message
    assert "line 3:" in message  # the second data row


def test_future_runs_of_missed_months_are_refused():
    miss = pd.DataFrame(
        {"sub_id": [1], "start_date": ["2017-03-01"], "end_date": ["2099-05-01"]}
    )
    with pytest.raises(RawDataError, match="'end_date': must not be dated after today"):
        validate_table(miss, SCHEMAS["sub_miss"])
