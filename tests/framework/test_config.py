"""The project's config loader: an environment whose value cannot merge is named, key and folders."""

from __future__ import annotations

import shutil

import click
import pytest

from kedro_ml import settings
from kedro_ml.framework.config import ConfigConflictError, conflicts
from tests.conftest import PROJECT_ROOT


def _loader(conf, env):
    return settings.CONFIG_LOADER_CLASS(
        conf_source=str(conf), env=env, **settings.CONFIG_LOADER_ARGS
    )


@pytest.fixture
def conf(tmp_path):
    shutil.copytree(PROJECT_ROOT / "conf", tmp_path / "conf")
    (tmp_path / "conf" / "game9_env").mkdir()
    return tmp_path / "conf"


def test_a_list_where_base_has_a_mapping_names_the_key_and_both_folders(conf):
    (conf / "game9_env" / "parameters_model.yml").write_text(
        "model:\n  features: [price]\n"
    )
    with pytest.raises(ConfigConflictError) as info:
        _loader(conf, "game9_env")["parameters"]
    assert isinstance(info.value, click.ClickException)  # a message, no traceback
    message = info.value.message
    assert "model.features: a mapping in" in message and "a list in" in message
    assert str(conf / "base") in message and str(conf / "game9_env") in message


def test_a_mapping_where_base_has_a_list_is_named_too(conf):
    (conf / "game9_env" / "parameters_features.yml").write_text(
        "features:\n  windows_months: {short: 1}\n"
    )
    with pytest.raises(ConfigConflictError, match="features.windows_months: a list"):
        _loader(conf, "game9_env")["parameters"]


def test_environments_that_agree_load_as_before(conf):
    params = _loader(conf, "game2_env")["parameters"]
    assert params["game"] == "game2" and isinstance(params["model"]["features"], dict)


def test_conflicts_walks_nested_mappings_only_where_both_have_the_key():
    base = {"a": {"b": {"c": 1}, "d": [1]}, "e": {"f": 1}}
    override = {"a": {"b": [1], "d": [2]}, "g": [1]}
    assert [path for path, _, _ in conflicts(base, override)] == ["a.b"]
