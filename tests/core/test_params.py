"""Parameter checks: every problem named by its key, before anything runs."""

from __future__ import annotations

import copy

import pytest

from kedro_ml.core.params import ParameterError, validate_parameters
from tests.conftest import project_parameters


@pytest.fixture(scope="module")
def base() -> dict:
    return project_parameters()


def test_the_projects_own_parameters_pass(base):
    validate_parameters(base, ["train", "score", "model", "features", "labels"])


def test_a_misspelt_top_level_key_is_named_with_the_closest_block(base):
    params = {**base, "trian": {"seed": 3}}
    with pytest.raises(ParameterError, match=r"trian: not a parameter block.*'train'"):
        validate_parameters(params, [])


def test_every_problem_is_listed_not_only_the_first(base):
    params = copy.deepcopy(base)
    params["score"]["threshold"] = 2
    params["train"]["seed"] = -1
    with pytest.raises(ParameterError) as info:
        validate_parameters(params, ["score", "train"])
    message = str(info.value)
    assert "score.threshold" in message and "train.seed" in message


def test_only_the_blocks_a_pipeline_reads_are_checked(base):
    params = copy.deepcopy(base)
    params["score"]["threshold"] = 2
    validate_parameters(params, ["train"])  # scoring does not run: not its business


def test_a_training_window_after_the_score_window_is_refused(base):
    params = copy.deepcopy(base)
    params["train"]["window"] = dict(params["score"]["window"])
    params["train"]["label_as_of"] = None
    with pytest.raises(ParameterError, match="validation is out of time"):
        validate_parameters(params, ["train", "score"])


@pytest.mark.parametrize("source", ["cloud", "", "Registry"])
def test_a_model_source_other_than_registry_or_local_is_refused(base, source):
    with pytest.raises(ParameterError, match="model_source: must be registry or local"):
        validate_parameters({**base, "model_source": source}, [])


def _with_estimator(base: dict, estimator: dict) -> dict:
    params = copy.deepcopy(base)
    params["model"]["estimators"]["candidate"] = estimator
    params["model"]["estimator"] = "candidate"
    return params


@pytest.mark.parametrize(
    "estimator",
    [
        {"type": "sklearn.svm.LinearSVC"},
        {"type": "sklearn.svm.SVC", "kwargs": {"probability": False}},
        {"type": "sklearn.linear_model.RidgeClassifier"},
    ],
)
def test_an_estimator_without_probabilities_is_refused_before_any_fit(base, estimator):
    with pytest.raises(ParameterError) as info:
        validate_parameters(_with_estimator(base, estimator), ["model"])
    message = str(info.value)
    assert "model.estimators.candidate" in message and estimator["type"] in message
    assert "gives no probabilities" in message and "calibration" in message


@pytest.mark.parametrize(
    "estimator",
    [
        {"type": "sklearn.svm.SVC", "kwargs": {"probability": True}},
        {"type": "sklearn.svm.LinearSVC", "calibration": {"method": "sigmoid"}},
    ],
)
def test_probabilities_turned_on_or_calibrated_pass(base, estimator):
    validate_parameters(_with_estimator(base, estimator), ["model"])


def test_a_misspelt_estimator_keyword_is_named_before_any_fit(base):
    estimator = {"type": "sklearn.linear_model.LogisticRegression", "kwargs": {"CC": 1}}
    with pytest.raises(ParameterError) as info:
        validate_parameters(_with_estimator(base, estimator), ["model"])
    assert "model.estimators.candidate.kwargs" in str(info.value)
    assert "CC" in str(info.value)
