"""The model built from configuration: allowlist, feature groups, other estimators, search."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from kedro_ml.core.model import (
    ModelConfigError,
    build_model,
    build_search,
    load_object,
    model_id,
    resolve_columns,
    with_seed,
)
from tests.conftest import project_parameters


@pytest.fixture
def model_params() -> dict:
    return copy.deepcopy(project_parameters()["model"])


def _frame(n: int = 200, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(
        {
            "price": rng.uniform(1, 20, n),
            "soft_balance_last": rng.normal(0, 1, n),
            "soft_balance_mean_3m": rng.normal(0, 1, n),
            "sub_type": pd.Categorical(rng.choice(["hard", "soft"], n)),
            "ignored": rng.normal(0, 1, n),
        }
    )
    y = (
        (x["price"] + 3 * x["soft_balance_last"] + rng.normal(0, 1, n) > 10)
        .astype(int)
        .to_numpy()
    )
    return x, y


SMALL = {
    "features": {"numeric": ["price", "soft_balance_*"], "categorical": ["sub_type"]},
    "preprocessing": {
        "numeric": [{"type": "sklearn.preprocessing.StandardScaler"}],
        "categorical": [
            {
                "type": "sklearn.preprocessing.OneHotEncoder",
                "kwargs": {"sparse_output": False},
            }
        ],
    },
    "estimator": {
        "type": "sklearn.linear_model.LogisticRegression",
        "kwargs": {"C": 0.5},
    },
}


def test_only_allowlisted_paths_load():
    assert load_object("sklearn.linear_model.LogisticRegression") is LogisticRegression
    for bad in (
        "os.system",
        "builtins.eval",
        "subprocess.Popen",
        "sklearnx.Thing",
        "sklearn",
    ):
        with pytest.raises(ModelConfigError, match="not an allowed import path"):
            load_object(bad)
    with pytest.raises(ModelConfigError, match="cannot import"):
        load_object("sklearn.linear_model.NoSuchModel")


@pytest.mark.parametrize(
    ("path", "role", "message"),
    [
        # sklearn modules import classes from elsewhere: the path's text is not enough
        (
            "sklearn.datasets._kddcup99.GzipFile",
            "estimator",
            "gzip.GzipFile, defined outside",
        ),
        ("sklearn.utils.Bunch", "estimator", "is not a classifier"),
        ("sklearn.base.BaseEstimator", "estimator", "is not a classifier"),
        ("sklearn.pipeline.Pipeline", "estimator", "is not a classifier"),
        ("sklearn.pipeline.Pipeline", "transformer", "is not a transformer"),
        ("sklearn.preprocessing.StandardScaler", "estimator", "is not a classifier"),
        (
            "sklearn.linear_model.LogisticRegression",
            "transformer",
            "is not a transformer",
        ),
        ("sklearn.datasets.fetch_openml", "estimator", "is not a class"),
        ("kedro_ml.core.model.ModelVersion", "estimator", "is not a classifier"),
    ],
)
def test_the_resolved_class_must_be_an_sklearn_estimator_defined_in_sklearn(
    path, role, message
):
    with pytest.raises(ModelConfigError, match=message):
        load_object(path, role)


def test_allowed_classes_of_each_role():
    assert load_object("sklearn.ensemble.HistGradientBoostingClassifier", "estimator")
    assert load_object("sklearn.impute.SimpleImputer", "transformer")
    assert load_object("kedro_ml.core.transformers.Log", "transformer")


def test_patterns_pick_columns_in_frame_order():
    assert resolve_columns(["soft_*", "price"], ["price", "x", "soft_a", "soft_b"]) == [
        "price",
        "soft_a",
        "soft_b",
    ]
    with pytest.raises(ModelConfigError, match="no column matches"):
        resolve_columns(["missing_*"], ["price"])


def test_build_model_follows_the_config():
    x, y = _frame()
    model = build_model(SMALL, list(x.columns)).fit(x, y)
    preprocess, estimator = (
        model.named_steps["preprocess"],
        model.named_steps["estimator"],
    )
    assert isinstance(estimator, LogisticRegression) and estimator.C == 0.5
    numeric = preprocess.named_transformers_["numeric"]
    assert isinstance(numeric.steps[0][1], StandardScaler)
    assert isinstance(
        preprocess.named_transformers_["categorical"].steps[0][1], OneHotEncoder
    )
    assert preprocess.transformers_[0][2] == [
        "price",
        "soft_balance_last",
        "soft_balance_mean_3m",
    ]
    assert "ignored" not in preprocess.get_feature_names_out()
    assert model.predict_proba(x).shape == (len(x), 2)


def test_another_estimator_and_preprocessing_list_by_config_only():
    x, y = _frame()
    config = copy.deepcopy(SMALL)
    config["estimator"] = {
        "type": "sklearn.ensemble.RandomForestClassifier",
        "kwargs": {"n_estimators": 20},
    }
    config["preprocessing"]["numeric"] = [
        {"type": "sklearn.impute.SimpleImputer", "kwargs": {"strategy": "mean"}},
        {"type": "sklearn.preprocessing.MinMaxScaler"},
    ]
    model = with_seed(build_model(config, list(x.columns)), 3).fit(x, y)
    assert isinstance(model.named_steps["estimator"], RandomForestClassifier)
    assert model.named_steps["estimator"].random_state == 3
    assert [
        name
        for name, _ in model.named_steps["preprocess"]
        .named_transformers_["numeric"]
        .steps
    ] == [
        "numeric_0",
        "numeric_1",
    ]


def test_project_default_model_builds_and_takes_the_seed(model_params):
    x, y = _frame()
    config = {
        **model_params,
        "features": {
            "numeric": ["soft_balance_*"],
            "log_scaled": ["price"],
            "log1p_scaled": ["soft_balance_mean_3m"],
            "categorical": ["sub_type"],
        },
    }
    model = with_seed(build_model(config, list(x.columns)), 11)
    assert isinstance(model.named_steps["estimator"], LogisticRegression)
    assert model.named_steps["estimator"].random_state == 11
    assert model.fit(x, y).predict_proba(x).shape == (len(x), 2)


def test_the_boosted_trees_preset_comes_calibrated_on_time_ordered_folds(model_params):
    x, y = _frame()
    config = {
        **model_params,
        "estimator": "hist_gradient_boosting",
        "features": {
            "numeric": ["soft_balance_*"],
            "log_scaled": ["price"],
            "log1p_scaled": [],
            "categorical": ["sub_type"],
        },
    }
    model = with_seed(build_model(config, list(x.columns)), 5)
    calibrated = model.named_steps["estimator"]
    assert isinstance(calibrated, CalibratedClassifierCV)
    assert isinstance(calibrated.cv, TimeSeriesSplit) and calibrated.method == "sigmoid"
    assert isinstance(calibrated.estimator, HistGradientBoostingClassifier)
    assert calibrated.estimator.random_state == 5
    proba = model.fit(x, y).predict_proba(x)[:, 1]
    assert len(calibrated.calibrated_classifiers_) == 3 and proba.min() > 0


def test_calibration_is_configuration_too():
    x, y = _frame()
    config = {**SMALL, "calibration": {"method": "isotonic", "folds": 2}}
    model = build_model(config, list(x.columns)).fit(x, y)
    calibrated = model.named_steps["estimator"]
    assert calibrated.method == "isotonic" and calibrated.cv.n_splits == 2


def test_excluded_columns_leave_their_group_and_are_ignored_when_met_again():
    x, y = _frame()
    x["soft_balance_mean_3m"] = np.nan  # an optional column that came empty
    model = build_model(SMALL, list(x.columns), exclude=["soft_balance_mean_3m"])
    model.fit(x, y)
    selected = [
        c for _, _, cols in model.named_steps["preprocess"].transformers for c in cols
    ]
    assert "soft_balance_mean_3m" not in selected
    # filled in at prediction time, the column is still taken, and ignored
    filled = x.assign(soft_balance_mean_3m=1.0)
    np.testing.assert_array_equal(model.predict_proba(x), model.predict_proba(filled))


def test_a_group_left_without_columns_is_dropped():
    x, y = _frame()
    model = build_model(SMALL, list(x.columns), exclude=["sub_type"]).fit(x, y)
    assert [name for name, _, _ in model.named_steps["preprocess"].transformers] == [
        "numeric"
    ]


@pytest.mark.parametrize("pattern", ["kd_ratio", "total_*", "*"])
def test_extraction_time_columns_are_refused_unless_accepted(pattern):
    columns = ["price", "kd_ratio", "total_kills", "total_deaths", "sub_type"]
    config = {**SMALL, "features": {"numeric": [pattern], "categorical": ["sub_type"]}}
    with pytest.raises(ModelConfigError, match="leak"):
        build_model(config, columns)
    accepted = {
        **config,
        "accept_leaky_features": ["kd_ratio", "total_kills", "total_deaths"],
    }
    assert build_model(accepted, columns)


def test_bad_step_configs_name_the_problem():
    columns = ["price", "soft_balance_last", "sub_type"]
    with pytest.raises(ModelConfigError, match="'type'"):
        build_model(
            {
                **SMALL,
                "estimator": {"class": "sklearn.linear_model.LogisticRegression"},
            },
            columns,
        )
    with pytest.raises(ModelConfigError, match="LogisticRegression"):
        build_model(
            {
                **SMALL,
                "estimator": {
                    "type": "sklearn.linear_model.LogisticRegression",
                    "kwargs": {"nope": 1},
                },
            },
            columns,
        )
    with pytest.raises(ModelConfigError, match="not in model.features"):
        build_model({**SMALL, "preprocessing": {"other": []}}, columns)


def test_grid_search_over_time_ordered_folds_keeps_the_best():
    x, y = _frame(300)
    model = build_model(SMALL, list(x.columns))
    search = build_search(
        model,
        {"kind": "grid", "n_splits": 3, "param_grid": {"estimator__C": [0.001, 1.0]}},
        seed=0,
    )
    assert isinstance(search, GridSearchCV)
    search.fit(x, y)
    assert search.best_params_ == {"estimator__C": 1.0}
    assert search.cv.get_n_splits() == 3
    with pytest.raises(ModelConfigError, match="grid' or 'random"):
        build_search(model, {"kind": "bayes", "param_grid": {}}, seed=0)


def test_random_search_is_seeded():
    x, y = _frame(300)
    model = build_model(SMALL, list(x.columns))
    grid = {"estimator__C": [0.01, 0.1, 1.0, 10.0]}
    first = build_search(
        model, {"kind": "random", "n_iter": 2, "param_grid": grid}, seed=5
    ).fit(x, y)
    second = build_search(
        model, {"kind": "random", "n_iter": 2, "param_grid": grid}, seed=5
    ).fit(x, y)
    assert first.cv_results_["params"] == second.cv_results_["params"]


def test_model_id_depends_on_config_seed_and_data():
    x, _ = _frame(50)
    base = model_id(SMALL, 1, x)
    assert base == model_id(copy.deepcopy(SMALL), 1, x.copy())
    assert base != model_id(SMALL, 2, x)
    assert base != model_id(SMALL, 1, x.iloc[:-1])
    assert base != model_id({**SMALL, "estimator": {"type": "sklearn.svm.SVC"}}, 1, x)


def test_a_preset_brings_its_own_preprocessing_for_some_groups():
    x, y = _frame()
    config = copy.deepcopy(SMALL)
    config["estimator"] = "trees"
    config["estimators"] = {
        "trees": {
            "type": "sklearn.ensemble.HistGradientBoostingClassifier",
            "kwargs": {"max_iter": 10},
            "preprocessing": {"numeric": []},
        }
    }
    model = build_model(config, list(x.columns)).fit(x, y)
    preprocess = model.named_steps["preprocess"]
    numeric = next(t for name, t, _ in preprocess.transformers if name == "numeric")
    assert numeric == "passthrough"  # replaced by the preset
    transformers = preprocess.named_transformers_
    assert isinstance(transformers["categorical"].steps[0][1], OneHotEncoder)
    # the model-level steps still apply to an estimator without its own
    config["estimator"] = SMALL["estimator"]
    scaled = build_model(config, list(x.columns)).fit(x, y)
    numeric = scaled.named_steps["preprocess"].named_transformers_["numeric"]
    assert isinstance(numeric.steps[0][1], StandardScaler)


def test_the_same_rows_have_the_same_identity_from_memory_or_from_disk(tmp_path):
    x, y = _frame()
    rows = x.assign(
        sub_churn=pd.array(y, dtype="Int8"),
        sub_start_date=pd.date_range("2016-01-01", periods=len(x), freq="D"),
        label_state=pd.Categorical(["settled"] * len(x)),
        sub_type=x["sub_type"].astype("category"),
    )
    rows.to_parquet(tmp_path / "rows.parquet")
    back = pd.read_parquet(tmp_path / "rows.parquet")
    # what Parquet and pandas may change: string vs category, date units, int widths
    back = back.assign(
        sub_type=back["sub_type"].astype(str),
        sub_start_date=back["sub_start_date"].astype("datetime64[us]"),
        sub_churn=back["sub_churn"].astype("float64"),
    )
    assert model_id(SMALL, 3, rows) == model_id(SMALL, 3, back)
    assert model_id(SMALL, 3, rows) != model_id(SMALL, 4, rows)
    changed = back.copy()
    changed.loc[5, "price"] += 0.01
    assert model_id(SMALL, 3, rows) != model_id(SMALL, 3, changed)


def test_predict_proba_takes_a_frame_or_columns_alike(model_params):
    from kedro_ml.core.model import predict_proba

    rng = np.random.default_rng(3)
    x = pd.DataFrame(
        {
            "price": rng.uniform(1, 20, 80),
            "sub_months": rng.choice([1, 3, 6], 80),
            "sub_type": rng.choice(["hard", "soft", "balanced"], 80).astype(object),
        }
    )
    config = {
        "features": {"numeric": ["price", "sub_months"], "categorical": ["sub_type"]},
        "preprocessing": {
            "categorical": [
                {
                    "type": "sklearn.preprocessing.OneHotEncoder",
                    "kwargs": {"handle_unknown": "ignore"},
                }
            ]
        },
        "estimator": {"type": "sklearn.linear_model.LogisticRegression"},
    }
    model = build_model(config, list(x.columns)).fit(x, x["price"] > 10)
    model.feature_names_ = ["price", "sub_months", "sub_type"]
    columns = {name: x[name].to_numpy() for name in x.columns}
    np.testing.assert_array_equal(
        predict_proba(model, columns), predict_proba(model, x)
    )


def test_a_large_frame_is_scored_block_by_block_as_a_whole(monkeypatch, model_params):
    """Every row once, in order, the last partial block included, for both paths."""
    from kedro_ml.core import model as model_module

    x, y = _frame(n=203)
    project_shaped = build_model(SMALL, list(x.columns)).fit(x, y)
    other = Pipeline([("estimator", LogisticRegression())]).fit(x[["price"]], y)
    whole = model_module.predict_proba(project_shaped, x)
    other_whole = model_module.predict_proba(other, x[["price"]])
    blocks = []
    original = model_module._predict_block
    monkeypatch.setattr(model_module, "ROW_BLOCK", 50)
    monkeypatch.setattr(
        model_module,
        "_predict_block",
        lambda m, rows: blocks.append(len(rows)) or original(m, rows),
    )
    np.testing.assert_allclose(
        model_module.predict_proba(project_shaped, x), whole, rtol=0, atol=1e-12
    )
    np.testing.assert_allclose(
        model_module.predict_proba(other, x[["price"]]), other_whole, atol=1e-12
    )
    np.testing.assert_allclose(
        whole, project_shaped.predict_proba(x)[:, 1], rtol=0, atol=1e-12
    )
    assert blocks == [50, 50, 50, 50, 3] * 2


def test_the_default_model_never_changes_the_frames_it_fits_and_predicts(model_params):
    """Its scalers scale in place (``copy: false``) what the imputer before them made."""
    from kedro_ml.core.model import predict_proba

    x, y = _frame()
    x["soft_balance_last"] = x["soft_balance_last"].where(x.index % 7 != 0)  # gaps
    numeric = x[["soft_balance_last", "soft_balance_mean_3m"]]  # one float block
    config = {
        **model_params,
        "features": {
            "numeric": ["soft_balance_*"],
            "log_scaled": ["price"],
            "log1p_scaled": ["ignored"],
            "categorical": ["sub_type"],
        },
    }
    before, numeric_before = x.copy(deep=True), numeric.copy(deep=True)
    model = build_model(config, list(x.columns)).fit(x, y)
    model.feature_names_ = list(x.columns)
    sklearn_scores = model.predict_proba(x)[:, 1]
    np.testing.assert_allclose(predict_proba(model, x), sklearn_scores)
    np.testing.assert_allclose(
        predict_proba(model, numeric.join(x[["price", "sub_type", "ignored"]])),
        sklearn_scores,
    )
    pd.testing.assert_frame_equal(x, before)
    pd.testing.assert_frame_equal(numeric, numeric_before)
    # and in place is the same arithmetic as a copy
    copying = copy.deepcopy(config)
    for steps in copying["preprocessing"].values():
        for step in steps:
            step.get("kwargs", {}).pop("copy", None)
    reference = build_model(copying, list(x.columns)).fit(x, y)
    np.testing.assert_array_equal(reference.predict_proba(x)[:, 1], sklearn_scores)


def test_copy_false_on_a_groups_first_step_is_refused_naming_it(model_params):
    x, _ = _frame()
    config = copy.deepcopy(model_params)
    config["features"] = {"numeric": ["soft_balance_*"]}
    config["preprocessing"] = {
        "numeric": [
            {"type": "sklearn.preprocessing.StandardScaler", "kwargs": {"copy": False}}
        ]
    }
    with pytest.raises(ModelConfigError, match=r"model\.preprocessing\.numeric\[0\]"):
        build_model(config, list(x.columns))


class _FiltersWatch(StandardScaler):
    """A scaler that records, as it transforms, whether the warning filters were swapped."""

    def transform(self, X, copy=None):  # noqa: N803 - sklearn's argument names
        if _WATCH["filters"] is not None:
            _WATCH["seen"].append(warnings.filters is _WATCH["filters"])
        return super().transform(X, copy=copy)


_WATCH: dict = {"filters": None, "seen": []}


def _named_first_steps_model() -> tuple[Pipeline, pd.DataFrame]:
    """Every branch starts with a scikit-learn step fitted on named columns."""
    x, y = _frame()
    x["price"] = x["price"].where(x.index % 9 != 0)
    x["sub_type"] = x["sub_type"].astype(object)
    preprocess = ColumnTransformer(
        [
            (
                "numeric",
                Pipeline(
                    [
                        ("impute", SimpleImputer(strategy="median")),
                        ("watch", _FiltersWatch()),
                    ]
                ),
                ["price", "soft_balance_last"],
            ),
            ("watched", _FiltersWatch(), ["soft_balance_mean_3m"]),
            ("categorical", OneHotEncoder(sparse_output=False), ["sub_type"]),
        ],
        remainder="drop",
        sparse_threshold=0,
    )
    model = Pipeline([("preprocess", preprocess), ("estimator", LogisticRegression())])
    return model.fit(x, y), x


def test_columns_fed_by_position_neither_warn_nor_touch_the_warning_filters():
    """No "X does not have valid feature names", and no process-wide filter swapped for it.

    ``warnings.catch_warnings`` replaces ``warnings.filters`` for its block, which
    another thread's ``catch_warnings`` can undo; the scoring path must not need it.
    """
    from kedro_ml.core.importance import permutation_importance
    from kedro_ml.core.model import predict_proba

    model, x = _named_first_steps_model()
    first_steps = [
        model[0].named_transformers_["numeric"][0],
        model[0].named_transformers_["watched"],
        model[0].named_transformers_["categorical"],
    ]
    assert all(hasattr(step, "feature_names_in_") for step in first_steps)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _WATCH.update(filters=warnings.filters, seen=[])
        try:
            scores = predict_proba(model, x)
            served = predict_proba(model, {c: x[c].to_numpy() for c in x.columns})
            importance = permutation_importance(
                model, x, (scores > 0.5).astype(int), n_repeats=2, random_state=0
            )
        finally:
            _WATCH["filters"] = None
    assert [str(w.message) for w in caught] == []
    assert _WATCH["seen"] and all(_WATCH["seen"])
    np.testing.assert_allclose(scores, model.predict_proba(x)[:, 1], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(served, scores)
    assert importance.importances.shape == (len(x.columns), 2)
    # the fitted model itself keeps its names (copies were fed by position)
    assert all(hasattr(step, "feature_names_in_") for step in first_steps)
    with pytest.warns(UserWarning, match="valid feature names"):
        first_steps[2].transform(x[["sub_type"]].to_numpy())


def test_a_model_refitted_in_place_is_scored_with_its_new_fit():
    from kedro_ml.core.model import predict_proba

    model, x = _named_first_steps_model()
    before = predict_proba(model, x)
    y = (x["soft_balance_mean_3m"] > 0).astype(int).to_numpy()
    model.fit(x, y)
    after = predict_proba(model, x)
    np.testing.assert_allclose(after, model.predict_proba(x)[:, 1], rtol=0, atol=1e-12)
    assert not np.allclose(after, before)
