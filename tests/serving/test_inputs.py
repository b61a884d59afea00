"""Request rows against the contract: each refusal names the column and the row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kedro_ml.serving.inputs import (
    RequestError,
    check_feature_rows,
    check_online_rows,
    check_size,
    is_online_request,
)


class Model:
    feature_names_ = ["price", "sub_months", "sub_type", "soft_balance_last"]


def _rows(**changes) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "sub_id": [1, 2, 3],
            "price": [4.99, 9.99, 0.0],
            "sub_months": [1, 3, 6],
            "sub_type": ["hard", "soft", "balanced"],
            "soft_balance_last": [10.0, np.nan, 3.0],  # missing history is fine
        }
    )
    for column, values in changes.items():
        frame[column] = values
    return frame


def test_contract_rows_pass():
    check_feature_rows(_rows(), Model(), 10)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"price": [4.99, np.nan, 0.0]}, "column 'price', row 1: must not be empty"),
        (
            {"price": [4.99, np.inf, 0.0]},
            "column 'price', row 1: must be a finite number",
        ),
        ({"price": [4.99, -1.0, 0.0]}, "column 'price', row 1: must be >= 0"),
        ({"price": ["4.99", "ten", "0"]}, "column 'price', row 1: expected a number"),
        ({"sub_id": [1, 3.5, 2]}, "column 'sub_id', row 1: must be a whole number"),
        ({"sub_id": [1, 2, 2**40]}, "column 'sub_id', row 2: must fit int32"),
        (
            {"sub_months": [1, 2.5, 6]},
            "column 'sub_months', row 1: must be a whole number",
        ),
        (
            {"sub_type": ["hard", "gold", "soft"]},
            "column 'sub_type', row 1: must be one of",
        ),
        (
            {"soft_balance_last": [np.inf, -np.inf, 1.0]},
            "column 'soft_balance_last', rows 0, 1: must be a finite number or missing",
        ),
        (
            {"price": [True, False, True]},
            "column 'price', row 0, 1, 2".replace("row", "rows"),
        ),
    ],
)
def test_rows_outside_the_contract_are_refused_naming_column_and_row(changes, message):
    with pytest.raises(RequestError) as info:
        check_feature_rows(_rows(**changes), Model(), 10)
    assert message in str(info.value)


def test_a_missing_column_is_named():
    with pytest.raises(RequestError, match="column 'soft_balance_last' is missing"):
        check_feature_rows(_rows().drop(columns="soft_balance_last"), Model(), 10)


def test_empty_and_oversized_requests_are_refused():
    with pytest.raises(RequestError, match="the request holds no rows"):
        check_size(pd.DataFrame(), 10)
    with pytest.raises(RequestError, match="holds 3 rows, more than the 2"):
        check_size(_rows(), 2)


# ---------------------------------------------------------------- online requests
MONTH = pd.Timestamp("2018-01-01")


def _online(**changes) -> dict[str, np.ndarray]:
    """Two requests as the JSON parser hands them over (int64, float64 or object)."""
    rows = {
        "char_id": np.array([17, 4]),
        "sub_type": np.array(["soft", "hard"], dtype=object),
        "sub_months": np.array([3, 1]),
        "sub_size": np.array([100, 500]),
        "price": np.array([9.99, 4.99]),
        "num_hard_currency": np.array([0, 500]),
        "num_soft_currency": np.array([1000.0, 0.0]),
    }
    for name, values in changes.items():
        if values is None:
            rows.pop(name)
        else:
            rows[name] = (
                np.asarray(values) if not isinstance(values, np.ndarray) else values
            )
    return rows


def test_online_requests_are_typed_as_batch_types_them():
    typed = check_online_rows(_online(), 10, MONTH)
    assert typed["char_id"].dtype == np.int32
    assert typed["sub_months"].dtype == np.int32
    assert typed["price"].dtype == np.float64
    assert typed["sub_type"].dtype == object and typed["sub_type"].tolist() == [
        "soft",
        "hard",
    ]
    assert typed["sub_id"].tolist() == [-1, -2]  # none given: answered as null
    assert (typed["sub_start_date"] == np.datetime64("2018-01-01", "s")).all()
    given = check_online_rows(
        _online(sub_id=[8, 9], sub_start_date=np.array(["2018-01-01", None], object)),
        10,
        MONTH,
    )
    assert given["sub_id"].tolist() == [8, 9]


def _obj(*values):
    column = np.empty(len(values), dtype=object)
    column[:] = list(values)
    return column


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"price": None}, "column 'price' is missing"),
        ({"char_id": None}, "column 'char_id' is missing"),
        ({"price": [9.99, np.nan]}, "column 'price', row 1: must not be empty"),
        ({"price": [np.inf, 1.0]}, "column 'price', row 0: must be a finite number"),
        ({"num_soft_currency": [1e400, 0]}, "column 'num_soft_currency', row 0"),
        ({"sub_months": [3, -1]}, "column 'sub_months', row 1: must be >= "),
        ({"sub_size": [100, 2.5]}, "column 'sub_size', row 1: must be a whole number"),
        ({"char_id": [17, 2**40]}, "column 'char_id', row 1: must fit int32"),
        ({"char_id": _obj(17, "x")}, "column 'char_id', row 1: expected a number"),
        (
            {"sub_type": _obj("soft", "gold")},
            "column 'sub_type', row 1: must be one of",
        ),
        (
            {"sub_type": _obj("soft", None)},
            "column 'sub_type', row 1: must not be empty",
        ),
        ({"price": _obj(True, 1.0)}, "column 'price', row 0"),
        ({"sub_id": [5, 5]}, "column 'sub_id', rows 0, 1: appears twice"),
        ({"sub_id": _obj(5, None)}, "column 'sub_id', row 1: must not be empty"),
        ({"hat": [1, 2]}, "unknown field(s) ['hat']"),
        (
            {"sub_start_date": _obj("2017-12-01", "2018-01-01")},
            "column 'sub_start_date', row 0: is before 2018-01-01",
        ),
        (
            {"sub_start_date": _obj("2018-01-01", "2018-02-01")},
            "row 1: is after 2018-01-01, the month the online store is as of: refresh",
        ),
        (
            {"sub_start_date": _obj("2018-01-15", "2018-01-01")},
            "row 0: expected the first day of a month",
        ),
        (
            {"sub_start_date": _obj("next month", 20180101)},
            "rows 0, 1: expected an ISO date",
        ),
    ],
)
def test_online_requests_outside_the_contract_are_refused(changes, message):
    with pytest.raises(RequestError) as info:
        check_online_rows(_online(**changes), 10, MONTH)
    assert message in str(info.value)


def test_online_requests_empty_or_too_many_are_refused():
    with pytest.raises(RequestError, match="no rows"):
        check_online_rows(
            {name: values[:0] for name, values in _online().items()}, 10, MONTH
        )
    with pytest.raises(RequestError, match="more than the 1 "):
        check_online_rows(_online(), 1, MONTH)


def test_feature_rows_and_online_requests_are_told_apart():
    assert is_online_request(_online(), Model())
    assert not is_online_request(_rows(), Model())  # no char_id
    assert not is_online_request(
        {**_online(), "soft_balance_last": np.ones(2)}, Model()
    )


def test_start_dates_may_come_as_dates():
    dates = np.array(["2018-01-01", "NaT"], dtype="datetime64[ns]")
    check_online_rows(_online(sub_start_date=dates), 10, MONTH)
    with pytest.raises(RequestError, match="row 1: is after 2018-01-01"):
        check_online_rows(
            _online(
                sub_start_date=np.array(["2018-01-01", "2018-03-01"], "datetime64[ms]")
            ),
            10,
            MONTH,
        )


@pytest.mark.parametrize(
    ("price", "message"),
    [
        (1e308, r"column 'price', row 1: must be at most 3\.40282e\+38"),
        (
            1e-320,
            r"column 'price', row 1: makes the feature hard_per_price out of range",
        ),
    ],
)
def test_terms_whose_features_overflow_are_refused_naming_the_field(price, message):
    with pytest.raises(RequestError, match=message):
        check_online_rows(_online(price=np.array([9.99, price])), 10, MONTH)


def test_feature_rows_out_of_the_models_range_are_refused():
    import pandas as pd

    from kedro_ml.serving.inputs import check_feature_rows

    class Model:
        feature_names_ = ["soft_balance_mean_3m"]

    frame = pd.DataFrame({"sub_id": [1, 2], "soft_balance_mean_3m": [1.0, 1e200]})
    with pytest.raises(
        RequestError, match=r"column 'soft_balance_mean_3m', row 1: must be within"
    ):
        check_feature_rows(frame, Model(), 10)


def test_a_request_missing_several_fields_names_all_of_them():
    request = {
        k: v for k, v in _online().items() if k not in ("price", "sub_type", "sub_size")
    }
    with pytest.raises(RequestError) as info:
        check_online_rows(request, 10, MONTH)
    message = str(info.value)
    assert "columns 'sub_type', 'sub_size', 'price' are missing" in message
    rows = _rows().drop(columns=["sub_id", "soft_balance_last"])
    with pytest.raises(RequestError, match="columns 'sub_id', 'soft_balance_last'"):
        check_feature_rows(rows, Model(), 10)
