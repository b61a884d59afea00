"""Checks before a run: inputs that do not exist yet name the pipeline to run first."""

from __future__ import annotations

import pytest


# ------------------------------------------------------------ inputs that exist
def _registry():
    from kedro.pipeline import Node, Pipeline

    def step(*args):
        return 1

    features = Pipeline([Node(step, "raw", "features", name="features")])
    train = Pipeline([Node(step, "features", "model", name="train")])
    promote = Pipeline([Node(step, "model", "champion@write", name="promote")])
    predict = Pipeline(
        [
            Node(
                step,
                ["champion@read", "features", "truth"],
                "predictions",
                name="predict",
            )
        ]
    )
    return {
        "features": features,
        "train": train,
        "promote": promote,
        "predict": predict,
        "__default__": features + train + promote + predict,
    }


def _catalog(tmp_path, present: set[str]):
    from kedro.io import DataCatalog

    def pickle(name: str) -> dict:
        return {
            "type": "pickle.PickleDataset",
            "filepath": str(tmp_path / f"{name}.pkl"),
        }

    config = {
        name: pickle(name) for name in ("raw", "features", "model", "predictions")
    }
    config["champion@read"] = pickle("champion")
    config["truth"] = {
        "type": "kedro_ml.datasets.arrow_csv.OptionalCSVDataset",
        "filepath": str(tmp_path / "t.csv"),
        "columns": ["a"],
    }
    catalog = DataCatalog.from_config(config)
    for name in present:
        catalog.save("champion@read" if name == "champion" else name, 1)
    return catalog


def test_a_run_whose_inputs_are_missing_names_the_pipeline_to_run_first(tmp_path):
    from kedro_ml.hooks.checks import MissingInputError, check_inputs_exist

    registry = _registry()
    catalog = _catalog(tmp_path, {"raw"})
    with pytest.raises(MissingInputError) as info:
        check_inputs_exist(registry["predict"], catalog, {"env": "game2_env"}, registry)
    message = str(info.value.message)
    assert "champion@read (" in message and "features (" in message
    assert "truth" not in message  # optional: real exports come without it
    # the smallest pipeline that writes both from what exists: the whole lifecycle
    assert "Run `kedro run --env=game2_env` first" in message
    assert "written by `kedro run --env=game2_env --pipelines=promote`" in message


def test_the_smallest_pipeline_that_can_run_is_named(tmp_path):
    from kedro_ml.hooks.checks import MissingInputError, check_inputs_exist

    registry = _registry()
    catalog = _catalog(tmp_path, {"raw", "features", "model"})
    with pytest.raises(
        MissingInputError, match="Run `kedro run --pipelines=promote` first"
    ):
        check_inputs_exist(registry["predict"], catalog, {}, registry)
    # everything there: no complaint
    check_inputs_exist(
        registry["predict"], _catalog(tmp_path, {"features", "champion"}), {}, registry
    )


# ------------------------------------------------------------ the environment
def test_an_environment_without_a_folder_is_named_with_those_that_exist(tmp_path):
    from kedro_ml.hooks.checks import MissingEnvironmentError, check_environment

    for name in ("base", "game2_env", "local"):
        (tmp_path / name).mkdir()
    (tmp_path / "logging.yml").write_text("")
    with pytest.raises(MissingEnvironmentError) as info:
        check_environment(tmp_path, "game3_env")
    message = str(info.value.message)
    assert "Environment 'game3_env' does not exist" in message
    assert str(tmp_path / "game3_env") in message
    assert "Environments here: base, game2_env, local." in message


def test_existing_environments_the_default_and_archives_pass(tmp_path):
    from kedro_ml.hooks.checks import check_environment

    (tmp_path / "game2_env").mkdir()
    check_environment(tmp_path, "game2_env")
    check_environment(tmp_path, None)  # the default run environment
    archive = tmp_path / "conf.tar.gz"
    archive.write_bytes(b"")
    check_environment(archive, "anything")  # an archive is read as it is


# ------------------------------------------------------------ parameters
def test_bad_parameters_stop_the_run_as_a_message_listing_every_key():
    import click
    from kedro.pipeline import Node, Pipeline

    from kedro_ml.hooks.checks import ParameterCheckError, check_parameters
    from tests.conftest import project_parameters

    params = project_parameters()
    params["model"]["estimator"] = "logistic_regresion"
    params["train"]["seed"] = -1
    pipeline = Pipeline(
        [Node(lambda m, t: 1, ["params:model", "params:train.seed"], "x", name="n")]
    )
    with pytest.raises(ParameterCheckError) as info:
        check_parameters(pipeline, params)
    assert isinstance(info.value, click.ClickException)  # shown without a traceback
    message = info.value.message
    assert "did you mean 'logistic_regression'?" in message
    assert "train.seed" in message


def _git(folder, *args):
    import subprocess

    subprocess.run(
        ["git", "-c", "user.email=t@t", "-c", "user.name=t", *args],
        cwd=folder,
        check=True,
        capture_output=True,
    )


def test_a_run_that_would_overwrite_tracked_files_stops_naming_them_and_the_flag(
    tmp_path, monkeypatch
):
    from kedro.io import DataCatalog
    from kedro.pipeline import Node, Pipeline

    from kedro_ml.hooks.checks import TrackedDataError, check_tracked_outputs

    raw = tmp_path / "data" / "01_raw"
    raw.mkdir(parents=True)
    (raw / "sub_data.csv").write_text("sub_id\n1\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "sample")
    (raw / "untracked.csv").write_text("x\n")
    monkeypatch.chdir(tmp_path)

    def catalog(name):
        return DataCatalog.from_config(
            {
                "raw": {
                    "type": "kedro_ml.datasets.atomic.CSVDataset",
                    "filepath": f"data/01_raw/{name}",
                }
            }
        )

    pipeline = Pipeline([Node(lambda: 1, None, "raw", name="write_raw")])
    with pytest.raises(TrackedDataError) as stopped:
        check_tracked_outputs(pipeline, catalog("sub_data.csv"), {}, tmp_path)
    message = str(stopped.value)
    assert "data/01_raw/" in message and "sub_data.csv" in message
    assert "synthesize.overwrite_tracked=true" in message and "sandbox_env" in message
    # on purpose
    check_tracked_outputs(
        pipeline,
        catalog("sub_data.csv"),
        {"synthesize": {"overwrite_tracked": True}},
        tmp_path,
    )
    # files git does not track, files not there yet, and no git at all pass
    check_tracked_outputs(pipeline, catalog("untracked.csv"), {}, tmp_path)
    check_tracked_outputs(pipeline, catalog("new.csv"), {}, tmp_path)
    monkeypatch.setenv("PATH", "")
    check_tracked_outputs(pipeline, catalog("sub_data.csv"), {}, tmp_path)
