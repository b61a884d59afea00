"""``kedro experiment``: five candidates on the same windows, each an MLflow run, ranked."""

from __future__ import annotations

import json

import mlflow
import pandas as pd
import pytest
import yaml

from tests.conftest import _copy_project, kedro_process

pytestmark = pytest.mark.slow

CANDIDATES = {
    "logistic_regression",
    "without_categorical",
    "boosted_trees",
    "random_forest",
    "logistic_grid",
}


@pytest.fixture(scope="module")
def experimented(tmp_path_factory):
    """A project with a champion (``kedro run``), then ``kedro experiment`` as a user runs it."""
    project = _copy_project(tmp_path_factory.mktemp("experiment") / "project")
    tracking = {"MLFLOW_TRACKING_URI": f"sqlite:///{project / 'mlflow.db'}"}
    made = kedro_process(project, "run", env=tracking)
    assert made.returncode == 0, made.stderr[-3000:]
    result = kedro_process(project, "experiment", env=tracking, timeout=900)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    client = mlflow.MlflowClient(tracking["MLFLOW_TRACKING_URI"])
    return project, result.stdout, client, tracking


def _runs(client, **tags):
    experiment = client.get_experiment_by_name("sub_churn_game1")
    query = " and ".join(f"tags.`{k}` = '{v}'" for k, v in tags.items())
    return client.search_runs([experiment.experiment_id], query, max_results=1000)


def test_five_candidates_are_child_runs_with_their_metrics_and_models(experimented):
    project, output, client, _ = experimented
    (parent,) = [
        r
        for r in _runs(client, pipeline="experiment")
        if "mlflow.parentRunId" not in r.data.tags
    ]
    assert parent.info.status == "FINISHED"
    children = client.search_runs(
        [parent.info.experiment_id], f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
    )
    by_name = {r.data.tags["kedro_ml.candidate"]: r for r in children}
    assert set(by_name) == CANDIDATES and len(children) == len(CANDIDATES)
    for name, run in by_name.items():
        metrics = run.data.metrics
        for key in (
            "roc_auc",
            "roc_auc_low",
            "roc_auc_high",
            "pr_auc",
            "ece",
            "oracle_gap",
            "difference_vs_champion",
            "difference_low",
            "difference_high",
            "beats_champion",
            "fit_seconds",
            "predict_seconds",
            "model_bytes",
        ):
            assert key in metrics, (name, key)
        assert metrics["roc_auc_low"] < metrics["roc_auc"] < metrics["roc_auc_high"]
        assert metrics["difference_low"] <= metrics["difference_high"]
        # the model, logged once, in the candidate's run
        logged = client.search_logged_models(
            experiment_ids=[parent.info.experiment_id],
            filter_string=f"source_run_id = '{run.info.run_id}'",
        )
        assert len(logged) == 1, name
    # the grid: every combination a child of its candidate
    grid = client.search_runs(
        [parent.info.experiment_id],
        f"tags.mlflow.parentRunId = '{by_name['logistic_grid'].info.run_id}'",
    )
    assert sorted(float(r.data.params["estimator__C"]) for r in grid) == [
        0.03,
        0.1,
        0.3,
        1.0,
    ]
    assert all("cv_roc_auc_mean" in r.data.metrics for r in grid)
    # the same default model as the champion's: no better than itself
    same = by_name["logistic_regression"].data.metrics
    assert same["difference_vs_champion"] == pytest.approx(0, abs=1e-12)
    assert same["beats_champion"] == 0.0
    # the table and picture, beside the project's reports and on the parent run
    folder = project / "data" / "08_reporting" / "experiments"
    table = pd.read_csv(folder / "candidates.csv")
    assert list(table["rank"]) == [1, 2, 3, 4, 5]
    assert table["roc_auc"].is_monotonic_decreasing
    for row in table.itertuples():
        assert row.roc_auc == pytest.approx(
            by_name[row.candidate].data.metrics["roc_auc"]
        )
    assert (folder / "candidates.png").read_bytes()[:4] == b"\x89PNG"
    results = json.loads((folder / "candidates.json").read_text())
    assert results["champion_version"] == "1" and len(results["candidates"]) == 5
    artifacts = {
        a.path for a in client.list_artifacts(parent.info.run_id, "experiment")
    }
    assert artifacts == {
        "experiment/candidates.csv",
        "experiment/candidates.json",
        "experiment/comparison.png",
    }
    # the summary ranks them and says which beat the champion
    ranking = [
        line
        for line in output.splitlines()
        if line.strip()[:2] in {"1.", "2.", "3.", "4.", "5."}
    ]
    assert [line.split()[1] for line in ranking] == list(table["candidate"])
    assert "Champion: version 1" in output and "Beyond noise:" in output


def test_one_feature_build_serves_every_candidate(experimented):
    _, output, client, _ = experimented
    (parent,) = [
        r
        for r in _runs(client, pipeline="experiment")
        if "mlflow.parentRunId" not in r.data.tags
    ]
    builds = client.search_runs(
        [parent.info.experiment_id],
        f"tags.`kedro_ml.experiment_run` = '{parent.info.run_id}'",
    )
    # one Kedro run built the features, named on the parent run
    assert [r.info.run_id for r in builds] == [
        parent.data.tags["kedro_ml.features_run"]
    ]
    assert builds[0].info.status == "FINISHED"
    assert "one feature build" in output


@pytest.mark.parametrize(
    ("candidate", "message"),
    [
        (
            {"model": {"estimator": {"type": "os.system"}}},
            "experiments.candidates.bad: model.estimator.type: 'os.system' is not an allowed import path",
        ),
        (
            {
                "model": {
                    "estimators": {"random_forest": {"kwargs": {"n_estimator": 3}}},
                    "estimator": "random_forest",
                }
            },
            "experiments.candidates.bad: model: model.estimators.random_forest.kwargs",
        ),
        (
            {"without_groups": ["colour"]},
            "experiments.candidates.bad.without_groups: 'colour'",
        ),
        ({"estimator": "random_forest"}, "experiments.candidates.bad.estimator"),
    ],
    ids=["allowlist", "misspelt-kwarg", "unknown-group", "misplaced-key"],
)
def test_a_bad_candidate_stops_the_command_before_any_training(
    experimented, candidate, message
):
    project, _, client, tracking = experimented
    path = project / "conf" / "local" / "parameters_experiments.yml"
    path.write_text(yaml.safe_dump({"experiments": {"candidates": {"bad": candidate}}}))
    before = len(_runs(client, pipeline="experiment"))
    try:
        result = kedro_process(project, "experiment", env=tracking)
    finally:
        path.unlink()
    assert result.returncode == 1
    assert message in result.stderr, result.stderr[-2000:]
    # stopped before any run or file: no experiment run, no training
    assert "Traceback" not in result.stderr
    assert len(_runs(client, pipeline="experiment")) == before


def test_promoting_a_candidate_that_does_not_beat_the_champion_changes_nothing(
    experimented,
):
    project, _, client, tracking = experimented
    before = client.get_model_version_by_alias("sub_churn_game1", "champion").version
    result = kedro_process(
        project, "experiment", "--promote", "without_categorical", env=tracking
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (
        "Candidate without_categorical" in result.stdout
        and "not promoted" in result.stdout
    )
    assert "not better beyond noise" in result.stdout
    assert (
        client.get_model_version_by_alias("sub_churn_game1", "champion").version
        == before
    )
    # the model the rule judged is the experiment's candidate, trained again the usual way
    table = pd.read_csv(
        project / "data" / "08_reporting" / "experiments" / "candidates.csv"
    )
    model_id = table.loc[table["candidate"] == "without_categorical", "model_id"].item()
    assert f"(model {model_id})" in result.stdout
