"""Feature transforms that scikit-learn lacks in a form configuration can name.

Each is an sklearn transformer (``kedro_ml.core.transformers.<Name>`` in
``parameters_model.yml``), saved with the model in skops format.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted


class _ColumnWise(TransformerMixin, BaseEstimator):
    """A transform column by column: the columns out are the columns in."""

    def _fit_columns(self, X) -> np.ndarray:  # noqa: N803 - sklearn's argument names
        x = check_array(X, dtype=float, ensure_all_finite="allow-nan")
        self.n_features_in_ = x.shape[1]
        if hasattr(X, "columns"):
            self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        return x

    def get_feature_names_out(self, input_features=None):
        if input_features is not None:
            return np.asarray(input_features, dtype=object)
        return getattr(
            self,
            "feature_names_in_",
            np.asarray([f"x{i}" for i in range(self.n_features_in_)], dtype=object),
        )


class Log(_ColumnWise):
    """``log(x + offset)`` per column, for effects that are multiplicative.

    ``offset: 1`` gives ``log1p`` for counts that start at zero (ages in
    months). Values at or below ``-offset`` have no logarithm and become
    missing, for the imputer after it to fill.
    """

    def __init__(self, offset: float = 0.0):
        self.offset = offset

    def fit(self, X, y=None):  # noqa: N803
        self._fit_columns(X)
        return self

    def transform(self, X):  # noqa: N803
        check_is_fitted(self, "n_features_in_")
        x = check_array(X, dtype=float, ensure_all_finite="allow-nan") + float(
            self.offset
        )
        # in place on the new array: log(0) is -inf and log(negative) NaN; both missing
        with np.errstate(divide="ignore", invalid="ignore"):
            np.log(x, out=x)
        x[np.isneginf(x)] = np.nan
        return x


class MedianImputer(_ColumnWise):
    """Missing values replaced by their column's median in the fitted rows.

    The statistics of ``sklearn.impute.SimpleImputer(strategy="median")``,
    computed with numpy's partition-based ``nanmedian`` instead of a sort of
    masked arrays: 0.2 s against 3.7 s for 424k rows of 67 columns. A column
    with no value at all in the fitted rows is filled with 0.
    """

    def fit(self, X, y=None):  # noqa: N803
        self._fit_statistics(self._fit_columns(X))
        return self

    def fit_transform(self, X, y=None, **fit_params):  # noqa: N803
        """``fit(X).transform(X)`` from one conversion of ``X`` (a training set's worth of memory)."""
        x = self._fit_columns(X)
        self._fit_statistics(x)
        return self._filled(x, fresh=_converted(x, X))

    def _fit_statistics(self, x: np.ndarray) -> None:
        empty = np.isnan(x).all(axis=0)
        if empty.any():
            medians = np.zeros(x.shape[1])
            if not empty.all():
                medians[~empty] = np.nanmedian(x[:, ~empty], axis=0)
        else:
            medians = np.nanmedian(x, axis=0)  # no column left out: no copy of x
        self.statistics_ = medians

    def transform(self, X):  # noqa: N803
        check_is_fitted(self, "statistics_")
        x = check_array(X, dtype=float, ensure_all_finite="allow-nan")
        if x.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {x.shape[1]} features, but MedianImputer was fitted on "
                f"{self.n_features_in_} features"
            )
        return self._filled(x, fresh=_converted(x, X))

    def _filled(self, x: np.ndarray, fresh: bool) -> np.ndarray:
        """``x`` with its missing values filled: in place where ``x`` is this call's own array."""
        missing = np.isnan(x)
        if fresh:
            np.copyto(x, self.statistics_, where=missing)
            return x
        # one pass and one new array (the caller's stays as it was)
        return np.where(missing, self.statistics_, x)


def _converted(x: np.ndarray, X) -> bool:  # noqa: N803
    """Whether ``check_array`` made ``x`` anew from ``X`` (then nothing else holds it)."""
    return x is not X and x.flags.owndata and x.flags.writeable
