"""Every bad raw file and bad parameter of ``tests/bad_inputs.py``, stopped where it is checked.

In process and fast: a raw file is read by the project's own raw dataset and
validated by the standard features pipeline (Kedro's runner on the project's
catalog, without tracking); parameters are merged by the project's config
loader and checked for the pipeline they would run, as ``kedro run`` does
before its first node. A handful of these also run end to end through
``kedro run`` (``tests/e2e/test_reliability.py``), where nothing written
before must change.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from kedro.framework.project import settings
from kedro.io import DataCatalog
from kedro.runner import SequentialRunner

from kedro_ml.hooks.checks import check_inputs_exist, check_parameters
from kedro_ml.pipeline_registry import register_pipelines
from tests.bad_inputs import BAD_PARAMETERS, CASES, PARAMS
from tests.conftest import PROJECT_ROOT

RAW = PROJECT_ROOT / "data" / "01_raw"


def _config_loader(conf: Path = PROJECT_ROOT / "conf", runtime_params=None):
    from kedro_ml import settings as project_settings

    return settings.CONFIG_LOADER_CLASS(
        conf_source=str(conf),
        env="local",
        runtime_params=runtime_params or {},
        **project_settings.CONFIG_LOADER_ARGS,
    )


@pytest.fixture(scope="module")
def raw_catalog_config(tmp_path_factory):
    """The project's catalog on a copy of the sample, under a data root of its own."""
    root = tmp_path_factory.mktemp("bad_inputs")
    conf = root / "conf"
    shutil.copytree(PROJECT_ROOT / "conf" / "base", conf / "base")
    (conf / "local").mkdir()
    (conf / "local" / "globals.yml").write_text(
        yaml.safe_dump({"data_root": str(root / "data")})
    )
    return root, _config_loader(conf)


def _standard_features(root: Path, loader) -> None:
    catalog = DataCatalog.from_config(loader["catalog"])
    for name, value in loader["parameters"].items():
        catalog[f"params:{name}"] = value
    registry = register_pipelines()
    pipeline = registry["sub_churn_standard_features"]
    check_inputs_exist(
        pipeline, catalog, {}, registry
    )  # as a run does before its first node
    SequentialRunner().run(pipeline, catalog)


@pytest.mark.parametrize(
    ("table", "case"),
    PARAMS,
    ids=[f"{t.removesuffix('.csv')}-{c.replace(' ', '_')}" for t, c in PARAMS],
)
def test_a_bad_raw_file_is_refused_naming_file_column_and_rule(
    raw_catalog_config, table, case
):
    root, loader = raw_catalog_config
    raw = root / "data" / "01_raw"
    shutil.rmtree(root / "data", ignore_errors=True)
    shutil.copytree(RAW, raw)
    mutate, expected = CASES[table][case]
    mutate(raw / table)
    with pytest.raises(Exception) as info:  # noqa: PT011 - the message is what is checked
        _standard_features(root, loader)
    message = " ".join(str(info.value).split())
    for text in expected:
        assert text in message, f"{text!r} not in the message:\n{message[-1500:]}"


def _runtime_params(text: str) -> dict:
    """``--params`` as ``kedro run`` reads it: ``a.b=value`` pairs through OmegaConf's dot list."""
    from omegaconf import OmegaConf

    depth, start, pairs = 0, 0, []
    for i, char in enumerate(text):
        depth += char == "["
        depth -= char == "]"
        if char == "," and depth == 0:
            pairs.append(text[start:i])
            start = i + 1
    pairs.append(text[start:])
    return OmegaConf.to_container(OmegaConf.from_dotlist(pairs))


# those found before the first node (the others by a node, on the data: end to end)
CHECKED_BEFORE_RUNNING = [case for case in BAD_PARAMETERS if case[4]]


@pytest.mark.parametrize(
    ("params", "pipeline", "expected"),
    [case[1:4] for case in CHECKED_BEFORE_RUNNING],
    ids=[case[0] for case in CHECKED_BEFORE_RUNNING],
)
def test_a_bad_parameter_is_refused_naming_the_key(params, pipeline, expected):
    loader = _config_loader(runtime_params=_runtime_params(params))
    with pytest.raises(Exception) as info:  # noqa: PT011 - the message is what is checked
        check_parameters(register_pipelines()[pipeline], loader["parameters"])
    message = " ".join(str(info.value).split())
    for text in expected:
        assert text in message, f"{text!r} not in the message:\n{message[-1500:]}"


def test_the_runtime_params_reader_nests_and_reads_yaml():
    assert _runtime_params("a.b=1,c=[x, y],d.e.f=2016-11-15") == {
        "a": {"b": 1},
        "c": ["x", "y"],
        "d": {"e": {"f": "2016-11-15"}},
    }
