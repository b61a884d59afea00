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
