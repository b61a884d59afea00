"""Request rows against the contract: each refusal names the column and the row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kedro_ml.serving.inputs import RequestError, check_feature_rows, check_size


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
