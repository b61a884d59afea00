"""Permutation importance by branch: scikit-learn's result, to the bit, for every model shape."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from sklearn.inspection import permutation_importance as sklearn_importance
from sklearn.linear_model import LogisticRegression

from kedro_ml.core.importance import permutation_importance
from kedro_ml.core.model import build_model
from tests.conftest import project_parameters


def _frame(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(
        {
            "price": rng.uniform(1, 20, n),
            "age_months": rng.integers(0, 40, n).astype(float),
            "soft_balance_last": rng.normal(0, 1, n),
            "soft_balance_mean_3m": rng.normal(0, 1, n),
            "sub_type": pd.Categorical(rng.choice(["hard", "soft", "balanced"], n)),
            "race": rng.choice(["elf", "orc"], n).astype(object),
            "unused": rng.normal(0, 1, n),
        }
    )
    x.loc[x.index % 9 == 0, "soft_balance_last"] = np.nan
    signal = x["price"] / 5 + 2 * x["soft_balance_mean_3m"] + (x["race"] == "orc")
    y = (signal + rng.normal(0, 1, n) > 3).astype(int).to_numpy()
    return x, y


FEATURES = {
    "numeric": ["soft_balance_*"],
    "log_scaled": ["price"],
    "log1p_scaled": ["age_months"],
    "categorical": ["sub_type", "race"],
}


def _model(**changes):
    params = copy.deepcopy(project_parameters()["model"])
    params["features"] = FEATURES
    params.update(changes)
    x, y = _frame()
    model = build_model(params, list(x.columns)).fit(x, y)
    return model, x, y


def _same_as_sklearn(model, x, y, repeats: int = 3, seed: int = 7) -> None:
    ours = permutation_importance(model, x, y, n_repeats=repeats, random_state=seed)
    theirs = sklearn_importance(
        model, x, y, scoring="roc_auc", n_repeats=repeats, random_state=seed
    )
    np.testing.assert_array_equal(ours.importances, theirs.importances)
    np.testing.assert_array_equal(ours.importances_mean, theirs.importances_mean)
    np.testing.assert_array_equal(ours.importances_std, theirs.importances_std)
    assert ours.importances.shape == (x.shape[1], repeats)


def test_the_default_model_gives_sklearns_importances():
    model, x, y = _model()
    _same_as_sklearn(model, x, y)
    ours = permutation_importance(model, x, y, n_repeats=2, random_state=0)
    unused = list(x.columns).index("unused")
    assert np.all(ours.importances[unused] == 0)  # no branch reads it
    assert ours.importances_mean[list(x.columns).index("soft_balance_mean_3m")] > 0.05


def test_a_calibrated_model_without_decision_function_gives_sklearns_importances():
    model, x, y = _model(estimator="hist_gradient_boosting")
    assert not hasattr(model.steps[-1][1], "decision_function")  # calibrated
    _same_as_sklearn(model, x, y, repeats=2)


def test_a_branch_that_mixes_columns_is_transformed_again():
    preprocessing = copy.deepcopy(project_parameters()["model"]["preprocessing"])
    preprocessing["numeric"] = [
        {"type": "kedro_ml.core.transformers.MedianImputer"},
        {"type": "sklearn.preprocessing.PolynomialFeatures", "kwargs": {"degree": 2}},
    ]
    model, x, y = _model(preprocessing=preprocessing)
    _same_as_sklearn(model, x, y)


@pytest.mark.parametrize("seed", [0, 123])
def test_other_seeds_and_a_model_of_another_shape(seed):
    x, y = _frame(seed=seed)
    numeric = x[["price", "soft_balance_mean_3m"]]
    plain = LogisticRegression().fit(
        numeric, y
    )  # no column transformer: sklearn's path
    _same_as_sklearn(plain, numeric, y, seed=seed)
    model, x, y = _model()
    _same_as_sklearn(model, x, y, repeats=1, seed=seed)
