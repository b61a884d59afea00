"""The project's transformers, against scikit-learn's own where one exists."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer

from kedro_ml.core import persistence
from kedro_ml.core.transformers import Log, MedianImputer


def test_median_imputer_fills_with_the_fitted_medians():
    x = pd.DataFrame({"a": [1.0, np.nan, 3.0, 10.0], "b": [np.nan, 2.0, 4.0, np.nan]})
    imputer = MedianImputer().fit(x)
    assert imputer.statistics_.tolist() == [
        3.0,
        3.0,
    ]  # by hand: median(1, 3, 10), (2+4)/2
    filled = imputer.transform(pd.DataFrame({"a": [np.nan, 5.0], "b": [1.0, np.nan]}))
    assert filled.tolist() == [[3.0, 1.0], [5.0, 3.0]]
    assert imputer.get_feature_names_out().tolist() == ["a", "b"]
    assert x["a"].isna().sum() == 1 and x["b"].isna().sum() == 2  # inputs untouched


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_median_imputer_equals_scikit_learns_median_strategy(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(501, 6)) * rng.integers(1, 1000, size=6)
    x[rng.random(x.shape) < 0.3] = np.nan
    x[:, 4] = np.nan  # a column with no value at all
    ours = MedianImputer().fit(x)
    reference = SimpleImputer(strategy="median", keep_empty_features=True).fit(x)
    np.testing.assert_array_equal(ours.statistics_, reference.statistics_)
    unseen = rng.normal(size=(50, 6))
    unseen[rng.random(unseen.shape) < 0.5] = np.nan
    np.testing.assert_array_equal(ours.transform(unseen), reference.transform(unseen))


def test_median_imputer_refuses_a_frame_of_another_width():
    imputer = MedianImputer().fit(np.array([[1.0, 2.0]]))
    with pytest.raises(ValueError, match="features"):
        imputer.transform(np.array([[1.0, 2.0, 3.0]]))


def test_transformers_travel_in_the_projects_model_files():
    x = np.array([[1.0, np.nan], [3.0, 4.0], [np.nan, 8.0]])
    for transformer in (MedianImputer().fit(x), Log(offset=1).fit(x)):
        loaded = persistence.loads(persistence.dumps(transformer))
        np.testing.assert_array_equal(loaded.transform(x), transformer.transform(x))


@pytest.mark.parametrize("offset", [0.0, 1.0])
def test_log_is_the_logarithm_where_it_exists_and_missing_elsewhere(offset):
    values = [0.0, -1.0, -5.0, 1e-310, 0.5, 1.0, 1e308, np.nan]  # infinities: refused
    x = np.array([values, values[::-1]]).T
    with np.errstate(divide="ignore", invalid="ignore"):
        shifted = x + offset
        expected = np.where(
            shifted > 0, np.log(np.where(shifted > 0, shifted, 1.0)), np.nan
        )
    out = Log(offset=offset).fit(x).transform(x)
    np.testing.assert_array_equal(out, expected)  # NaN where x + offset <= 0 or missing
    assert np.isnan(out[1, 0])  # -1 + offset <= 0
    assert np.isnan(out[0, 0]) == (offset == 0.0)  # log(0) is missing, log(1) is 0


def test_the_transformers_leave_the_callers_array_as_it_was():
    x = np.array([[1.0, np.nan], [3.0, 0.0], [np.nan, 8.0], [-2.0, 4.0]])
    before = x.copy()
    for transformer in (MedianImputer().fit(x), Log().fit(x), Log(offset=1).fit(x)):
        out = transformer.transform(x)
        assert not np.shares_memory(out, x)
        np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize(
    "make",
    [
        lambda x: x,  # float64 array: check_array hands it back as it is
        lambda x: x.astype(np.float32),  # converted: the imputer's own copy
        pd.DataFrame,  # one float64 block: a view of the frame
        lambda x: pd.DataFrame({"a": x[:, 0], "b": x[:, 1].astype(np.float32)}),
        np.asfortranarray,
    ],
    ids=["float64", "float32", "frame", "mixed-frame", "fortran"],
)
def test_median_imputer_fit_transform_is_fit_then_transform_and_leaves_the_input(make):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(40, 2))
    x[rng.random(x.shape) < 0.3] = np.nan
    given = make(x)
    before = given.copy()
    out = MedianImputer().fit_transform(given)
    np.testing.assert_array_equal(out, MedianImputer().fit(given).transform(given))
    assert not np.isnan(out).any()
    if isinstance(given, pd.DataFrame):
        pd.testing.assert_frame_equal(given, before)
    else:
        np.testing.assert_array_equal(given, before)
        assert not np.shares_memory(out, given)
    read_only = np.array(x)
    read_only.flags.writeable = False
    np.testing.assert_array_equal(
        MedianImputer().fit_transform(read_only), MedianImputer().fit(x).transform(x)
    )
