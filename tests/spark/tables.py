"""Comparing a table of the pandas path with the Spark path's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

RTOL = 1e-5


def read_table(path: Path) -> pd.DataFrame:
    """A Parquet table, a file (pandas path) or a folder of parts (Spark path)."""
    return pd.read_parquet(path)


def latest_version(path: Path) -> Path:
    """The newest version of a versioned dataset's file."""
    versions = sorted(p for p in path.iterdir() if p.is_dir())
    assert versions, f"no versions under {path}"
    return versions[-1] / path.name


def assert_same_table(
    expected: pd.DataFrame, actual: pd.DataFrame, key: list[str]
) -> None:
    """Same columns in the same order, same rows, same nulls per column, numbers within RTOL.

    Rows are matched on ``key`` (Spark keeps no row order). Types may differ
    where Parquet stores the pandas type otherwise (categories as strings,
    nullable integers with nulls as floats, dates in another unit).
    """
    assert list(actual.columns) == list(expected.columns), (
        f"columns differ: only pandas {sorted(set(expected.columns) - set(actual.columns))}, "
        f"only Spark {sorted(set(actual.columns) - set(expected.columns))}, "
        "or another order"
    )
    assert len(actual) == len(expected), f"{len(expected)} rows vs {len(actual)}"
    expected = expected.sort_values(key, kind="stable").reset_index(drop=True)
    actual = actual.sort_values(key, kind="stable").reset_index(drop=True)
    for name in expected.columns:
        want, got = expected[name], actual[name]
        want_null, got_null = want.isna().to_numpy(), got.isna().to_numpy()
        assert np.array_equal(want_null, got_null), (
            f"column '{name}': {want_null.sum()} nulls vs {got_null.sum()}, "
            f"first differing row {np.flatnonzero(want_null != got_null)[0]}"
        )
        present = ~want_null
        if pd.api.types.is_datetime64_dtype(want):
            same = want.to_numpy()[present].astype("datetime64[s]") == got.to_numpy()[
                present
            ].astype("datetime64[s]")
        elif pd.api.types.is_numeric_dtype(want) and not pd.api.types.is_bool_dtype(
            want
        ):
            assert pd.api.types.is_numeric_dtype(got), f"column '{name}': {got.dtype}"
            same = np.isclose(
                got.to_numpy(dtype=np.float64, na_value=np.nan)[present],
                want.to_numpy(dtype=np.float64, na_value=np.nan)[present],
                rtol=RTOL,
                atol=0.0,
            )
        else:
            same = (
                want.astype("str").to_numpy()[present]
                == got.astype("str").to_numpy()[present]
            )
        assert same.all(), (
            f"column '{name}': {int((~same).sum())} values differ, e.g. "
            f"{want[present].to_numpy()[~same][:3]} vs {got[present].to_numpy()[~same][:3]}"
        )
