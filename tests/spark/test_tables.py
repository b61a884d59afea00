"""The comparison the equality tests rest on catches each kind of difference."""

import numpy as np
import pandas as pd
import pytest

from tests.spark.tables import assert_same_table


def _pair() -> tuple[pd.DataFrame, pd.DataFrame]:
    expected = pd.DataFrame(
        {
            "sub_id": np.array([1, 2, 3], dtype=np.int32),
            "sub_type": pd.Categorical(["hard", "soft", "hard"]),
            "sub_start_date": pd.to_datetime(
                ["2017-01-01", "2017-02-01", "2017-03-01"]
            ),
            "sub_churn": pd.array([1, None, 0], dtype="Int8"),
            "hard_last": np.array([1.0, np.nan, 3.0], dtype=np.float32),
        }
    )
    # what the Spark path's Parquet gives: rows in another order, strings,
    # nullable integers as floats, microsecond dates
    actual = pd.DataFrame(
        {
            "sub_id": np.array([3, 1, 2], dtype=np.int32),
            "sub_type": pd.array(["hard", "hard", "soft"], dtype="str"),
            "sub_start_date": pd.to_datetime(
                ["2017-03-01", "2017-01-01", "2017-02-01"]
            ).astype("datetime64[us]"),
            "sub_churn": [0.0, 1.0, np.nan],
            "hard_last": np.array([3.0, 1.0, np.nan], dtype=np.float32),
        }
    )
    return expected, actual


def test_equal_tables_pass_across_storage_types() -> None:
    assert_same_table(*_pair(), key=["sub_id"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a: a.assign(extra=1.0), "columns differ"),
        (lambda a: a.drop(columns="hard_last"), "columns differ"),
        (lambda a: a[a.columns[::-1]], "columns differ"),
        (lambda a: a.iloc[:2], "rows"),
        (lambda a: a.assign(hard_last=a["hard_last"].fillna(0)), "nulls"),
        (lambda a: a.assign(sub_churn=[0.0, 1.0, 1.0]), "nulls"),
        (lambda a: a.assign(hard_last=a["hard_last"] * (1 + 1e-4)), "values differ"),
        (lambda a: a.assign(sub_type=["hard", "soft", "soft"]), "values differ"),
        (
            lambda a: a.assign(
                sub_start_date=a["sub_start_date"] + pd.Timedelta(days=1)
            ),
            "values differ",
        ),
    ],
)
def test_each_difference_fails(change, message: str) -> None:
    expected, actual = _pair()
    with pytest.raises(AssertionError, match=message):
        assert_same_table(expected, change(actual), key=["sub_id"])
