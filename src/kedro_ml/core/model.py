"""Build, tune and fit the churn model from configuration.

The model is an sklearn ``Pipeline``: a ``ColumnTransformer`` with one branch
per feature group (each a list of steps) followed by the estimator. Every step
and the estimator are named by import path in ``parameters_model.yml``; only
paths under ``ALLOWED_PREFIXES`` may be loaded, so configuration cannot run
arbitrary code.
"""

from __future__ import annotations

import fnmatch
import hashlib
import importlib
import json
import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import issparse
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, TimeSeriesSplit
from sklearn.pipeline import Pipeline

from kedro_ml.core.features import EXTRACTION_TIME_FEATURES

logger = logging.getLogger(__name__)

# Where estimators and transformers may come from: the one place to widen it
# (say with "lightgbm." or "xgboost.", whose models are sklearn estimators).
ALLOWED_PREFIXES = ("sklearn.", "kedro_ml.")
_ROLES = {
    "estimator": (ClassifierMixin, "a classifier (sklearn.base.ClassifierMixin)"),
    "transformer": (TransformerMixin, "a transformer (sklearn.base.TransformerMixin)"),
}
TARGET = "sub_churn"
ID_COLUMNS = ("sub_id", "char_id", "sub_start_date")


@dataclass(frozen=True)
class ModelVersion:
    """A fitted model and where it comes from (a registry version or a local file)."""

    model: Pipeline
    source: str
    version: str | None = None

    @property
    def model_id(self) -> str:
        """The model's identity (config, seed and training rows)."""
        return self.model.model_id_


class ModelConfigError(ValueError):
    """The model configuration cannot be turned into an estimator."""


def load_object(path: str, role: str = "estimator") -> type:
    """The class at ``path``: defined under ``ALLOWED_PREFIXES`` and an sklearn ``role``.

    The text of the path is not enough: sklearn's modules import classes from
    elsewhere (``sklearn.datasets._kddcup99.GzipFile`` is ``gzip.GzipFile``).
    The resolved class must be defined in an allowed module, be an sklearn
    ``BaseEstimator`` and play ``role`` (``estimator``: a classifier;
    ``transformer``: a transformer). Nothing is constructed here.
    """
    allowed = list(ALLOWED_PREFIXES)
    if (
        not isinstance(path, str)
        or "." not in path
        or not path.startswith(ALLOWED_PREFIXES)
    ):
        raise ModelConfigError(
            f"'{path}' is not an allowed import path: estimators and transformers must "
            f"come from modules starting with {allowed}"
        )
    module_name, _, name = path.rpartition(".")
    try:
        obj = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError) as exc:
        raise ModelConfigError(f"cannot import '{path}': {exc}") from exc
    if not isinstance(obj, type):
        raise ModelConfigError(f"'{path}' is not a class")
    defined = f"{obj.__module__}.{obj.__qualname__}"
    if not obj.__module__.startswith(ALLOWED_PREFIXES):
        raise ModelConfigError(
            f"'{path}' is {defined}, defined outside {allowed}: only estimators and "
            "transformers defined there may be configured"
        )
    base, what = _ROLES[role]
    if not issubclass(obj, BaseEstimator) or not issubclass(obj, base):
        raise ModelConfigError(f"'{path}' ({defined}) is not {what}")
    return obj


def build_step(spec: Mapping[str, Any], role: str = "transformer") -> BaseEstimator:
    """An estimator or transformer from ``{type: import.path, kwargs: {...}}``."""
    unknown = set(spec) - {"type", "kwargs"}
    if unknown or "type" not in spec:
        raise ModelConfigError(
            f"a step needs 'type' and optional 'kwargs', got keys {sorted(spec)}"
        )
    cls = load_object(spec["type"], role)
    try:
        return cls(**dict(spec.get("kwargs") or {}))
    except TypeError as exc:
        raise ModelConfigError(f"{spec['type']}: {exc}") from exc


def resolve_columns(patterns: Sequence[str], available: Sequence[str]) -> list[str]:
    """Columns of ``available`` matching any of the shell-style ``patterns``, in order."""
    chosen = [c for c in available if any(fnmatch.fnmatchcase(c, p) for p in patterns)]
    unmatched = [
        p for p in patterns if not any(fnmatch.fnmatchcase(c, p) for c in available)
    ]
    if unmatched:
        raise ModelConfigError(f"model.features: no column matches {unmatched}")
    return chosen


def estimator_spec(model_params: Mapping[str, Any]) -> Mapping[str, Any]:
    """The estimator's ``{type, kwargs}``: inline, or a preset named from ``estimators``.

    Presets let an environment switch estimator with one word: soft merging
    would otherwise mix the base estimator's kwargs into an inline override.
    """
    estimator = model_params["estimator"]
    if isinstance(estimator, str):
        presets = model_params.get("estimators") or {}
        if estimator not in presets:
            raise ModelConfigError(
                f"model.estimator '{estimator}' is not a preset in model.estimators ({sorted(presets)})"
            )
        return presets[estimator]
    return estimator


def leaky_columns(model_params: Mapping[str, Any], columns: Sequence[str]) -> list[str]:
    """Extraction-time columns the feature groups select and the config does not accept."""
    accepted = set(model_params.get("accept_leaky_features") or [])
    chosen = {
        column
        for patterns in model_params["features"].values()
        for column in columns
        if any(fnmatch.fnmatchcase(column, p) for p in patterns)
    }
    return sorted((chosen & set(EXTRACTION_TIME_FEATURES)) - accepted)


def empty_columns(table: pd.DataFrame) -> list[str]:
    """Columns of ``table`` without a single value."""
    return [str(c) for c in table.columns[table.isna().all(axis=0).to_numpy()]]


def _calibrated(estimator: BaseEstimator, calibration: Mapping[str, Any]):
    """``estimator`` calibrated on time-ordered folds (rows must be in time order)."""
    return CalibratedClassifierCV(
        estimator,
        method=calibration.get("method", "sigmoid"),
        cv=TimeSeriesSplit(n_splits=int(calibration.get("folds", 3))),
        ensemble=True,
    )


def build_model(
    model_params: Mapping[str, Any],
    columns: Sequence[str],
    exclude: Collection[str] = (),
) -> Pipeline:
    """An unfitted sklearn Pipeline for the feature ``columns`` of a training table.

    The estimator's own ``preprocessing`` (a preset may have one) replaces the
    model's steps for the groups it names: gradient-boosted trees, for
    example, take missing values and unscaled numbers as they are. Columns in
    ``exclude`` (say, empty in the training rows) are left out of every group,
    and a group left with none is dropped; the fitted model ignores them when
    it meets them again. ``calibration`` (of the model, or of the preset)
    wraps the estimator in ``CalibratedClassifierCV`` on time-ordered folds.
    Extraction-time columns are refused unless ``accept_leaky_features``
    lists them.
    """
    leaky = leaky_columns(model_params, columns)
    if leaky:
        raise ModelConfigError(
            f"model.features selects {leaky}: extraction-time columns hold what "
            "happened after each prediction time and leak it into training (data "
            "contract). Remove them, or list them in model.accept_leaky_features "
            "to accept that risk."
        )
    features = model_params["features"]
    spec = dict(estimator_spec(model_params))
    preprocessing = {
        **(model_params.get("preprocessing") or {}),
        **(spec.pop("preprocessing", None) or {}),
    }
    calibration = spec.pop("calibration", None) or model_params.get("calibration")
    unknown_groups = set(preprocessing) - set(features)
    if unknown_groups:
        raise ModelConfigError(
            f"model.preprocessing names groups not in model.features: {sorted(unknown_groups)}"
        )
    excluded = set(exclude)
    branches = []
    for group, patterns in features.items():
        chosen = [c for c in resolve_columns(patterns, columns) if c not in excluded]
        if not chosen:
            logger.warning("Feature group '%s' has no column left: dropped", group)
            continue
        specs = preprocessing.get(group) or []
        if specs and (specs[0].get("kwargs") or {}).get("copy") is False:
            raise ModelConfigError(
                f"model.preprocessing.{group}[0] ({specs[0].get('type')}): `copy: "
                "false` on a group's first step would change the caller's data in "
                "place; keep it on steps after the first (whose input they made)"
            )
        steps = [(f"{group}_{i}", build_step(s)) for i, s in enumerate(specs)]
        transformer = Pipeline(steps) if steps else "passthrough"
        branches.append((group, transformer, chosen))
    if not branches:
        raise ModelConfigError(
            "model.features: no feature column is left to learn from"
        )
    estimator = build_step(spec, role="estimator")
    if calibration:
        estimator = _calibrated(estimator, calibration)
    return Pipeline(
        [
            (
                "preprocess",
                ColumnTransformer(
                    branches, remainder="drop", verbose_feature_names_out=False
                ),
            ),
            ("estimator", estimator),
        ]
    )


def with_seed(model: Pipeline, seed: int) -> Pipeline:
    """``model`` with every ``random_state`` parameter set to ``seed``."""
    seeded = {k: seed for k in model.get_params() if k.endswith("random_state")}
    return model.set_params(**seeded)


def build_search(model: Pipeline, search: Mapping[str, Any], seed: int):
    """Wrap ``model`` in a grid or randomised search over time-ordered folds."""
    kind = search.get("kind", "grid")
    folds = TimeSeriesSplit(n_splits=int(search.get("n_splits", 3)))
    common = {
        "cv": folds,
        "scoring": search.get("scoring", "roc_auc"),
        "refit": True,
        "n_jobs": 1,
    }
    if kind == "grid":
        return GridSearchCV(model, param_grid=dict(search["param_grid"]), **common)
    if kind == "random":
        return RandomizedSearchCV(
            model,
            param_distributions=dict(search["param_grid"]),
            n_iter=int(search.get("n_iter", 10)),
            random_state=seed,
            **common,
        )
    raise ModelConfigError(
        f"model.search.kind must be 'grid' or 'random', got '{kind}'"
    )


def split_xy(table: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Feature columns and the 0/1 target of a labelled table."""
    return table.drop(columns=[TARGET]), table[TARGET].to_numpy(dtype=np.int8)


def _column_bytes(values: pd.Series) -> bytes:
    """A column's values in one canonical form, whatever dtype they were read with."""
    if pd.api.types.is_datetime64_any_dtype(values):
        stamps = values.dt.tz_localize(None) if values.dt.tz is not None else values
        seconds = stamps.astype("datetime64[s]").to_numpy().astype(np.int64)
        return seconds.tobytes()
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return values.to_numpy(dtype=np.float64, na_value=np.nan).tobytes()
    text = values.astype(object).where(values.notna(), "\x00<missing>")
    return "\x1f".join(map(str, text.to_numpy())).encode()


def model_id(model_params: Mapping[str, Any], seed: int, training: pd.DataFrame) -> str:
    """A stable identity for a model: its config, seed and training rows.

    Values are hashed in a canonical form (numbers as float64, dates as
    seconds, everything else as text), so the same rows give the same id
    whether they came from memory or back from Parquet with other dtypes.
    """
    digest = hashlib.sha256(
        json.dumps(model_params, sort_keys=True, default=str).encode()
    )
    digest.update(str(seed).encode())
    digest.update(str(len(training)).encode())
    for column in sorted(training.columns, key=str):
        digest.update(str(column).encode())
        digest.update(_column_bytes(training[column]))
    return digest.hexdigest()[:12]


def _branches(model: Any) -> list[tuple[Any, list[str]]] | None:
    """The fitted (transformer, columns) of a project-shaped model, or None.

    The project's models are ``Pipeline([("preprocess", ColumnTransformer),
    ("estimator", ...)])`` with dense output and unselected columns dropped.
    """
    if not isinstance(model, Pipeline) or len(model.steps) != 2:  # noqa: PLR2004
        return None
    preprocess = model.steps[0][1]
    if (
        not isinstance(preprocess, ColumnTransformer)
        or getattr(preprocess, "sparse_output_", True)
        or not hasattr(preprocess, "transformers_")
    ):
        return None
    branches = [
        (_positional(transformer), list(columns))
        for _, transformer, columns in preprocess.transformers_
        if not (isinstance(transformer, str) and transformer == "drop") and len(columns)
    ]
    if not all(isinstance(c, str) for _, columns in branches for c in columns):
        return None  # columns by position (a passthrough remainder): sklearn's own path
    return branches


def _positional(transformer: Any) -> Any:
    """``transformer`` as it is fed here: its fitted columns as an array, by position.

    A step fitted on named columns keeps ``feature_names_in_`` and scikit-learn
    warns on every array it is given ("X does not have valid feature names").
    The columns are the fitted ones in the fitted order, so the warning says
    nothing here. It is not filtered with ``warnings.catch_warnings``: that
    swaps the process-wide filter list and is not thread-safe before Python
    3.14, so a ``catch_warnings`` on another thread (a library's, or another
    prediction's) could undo the filter mid-call or lose its own. Each such
    step is used through a shallow copy without the names instead; the copy
    shares every fitted array (the same arithmetic) and is made per call, in
    microseconds, so a model refitted in place is never used stale.
    """
    if isinstance(transformer, Pipeline):
        steps = [(name, _positional(step)) for name, step in transformer.steps]
        if all(
            new is old
            for (_, new), (_, old) in zip(steps, transformer.steps, strict=True)
        ):
            return transformer
        copied = _shallow_copy(transformer)
        copied.steps = steps
        return copied
    if "feature_names_in_" not in getattr(transformer, "__dict__", {}):
        return transformer
    copied = _shallow_copy(transformer)
    del copied.feature_names_in_
    return copied


def _shallow_copy(estimator: Any) -> Any:
    # not copy.copy: scikit-learn's __getstate__/__setstate__ add a version
    # check and a dict copy to every served request for nothing
    copied = object.__new__(type(estimator))
    copied.__dict__.update(vars(estimator))
    return copied


def _block(features: Any, columns: list[str]) -> np.ndarray:
    """``features[columns]`` as one array (object when a column is not numeric)."""
    if isinstance(features, pd.DataFrame):
        return features[columns].to_numpy()
    arrays = [np.asarray(features[column]) for column in columns]
    numeric = all(a.dtype.kind in "iufb" for a in arrays)
    block = np.empty((len(arrays[0]), len(arrays)), np.float64 if numeric else object)
    for i, values in enumerate(arrays):
        block[:, i] = values
    return block


def branch_output(transformer: Any, block: np.ndarray) -> np.ndarray:
    """What one fitted branch of the column transformer makes of its columns' block."""
    if isinstance(transformer, str):  # passthrough
        return block.astype(np.float64)
    return transformer.transform(block)


# Rows per block when a large frame is scored: each block's arrays (about
# 17 MB at 67 model columns) fit under glibc's largest mmap threshold, so
# blocks reuse the memory the previous one freed instead of faulting in new
# pages; scoring 477k training rows took 1.16-1.22 s whole, 0.83-0.86 s in
# blocks of 32,768 (8,192: 0.95-1.0 s; 131,072: 1.01-1.06 s).
ROW_BLOCK = 32_768


def predict_proba(model: Pipeline, features: pd.DataFrame | Mapping) -> np.ndarray:
    """Churn probability for each row of ``features`` (a DataFrame, or a mapping of columns).

    For the project's shape of model, each fitted branch of the column
    transformer gets its columns as a NumPy array: the same fitted objects and
    the same arithmetic as ``model.predict_proba`` (a test compares them row
    by row), without pandas' and scikit-learn's per-call DataFrame handling,
    which is most of the time a served one-row request takes. A frame of
    more than ``ROW_BLOCK`` rows is scored block by block.
    """
    if isinstance(features, pd.DataFrame) and len(features) > ROW_BLOCK:
        return np.concatenate(
            [
                _predict_block(model, features.iloc[start : start + ROW_BLOCK])
                for start in range(0, len(features), ROW_BLOCK)
            ]
        )
    return _predict_block(model, features)


def _predict_block(model: Pipeline, features: pd.DataFrame | Mapping) -> np.ndarray:
    branches = _branches(model)
    if branches is None:
        return model.predict_proba(pd.DataFrame(features))[:, 1]
    parts = [
        branch_output(transformer, _block(features, columns))
        for transformer, columns in branches
    ]
    if any(issparse(part) for part in parts):
        return model.predict_proba(pd.DataFrame(features))[:, 1]
    return model.steps[-1][1].predict_proba(np.hstack(parts))[:, 1]
