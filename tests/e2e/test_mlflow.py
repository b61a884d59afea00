"""MLflow with real components: the tracking store, the registry, a model server, a tracking server."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import urllib.request
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import yaml
from mlflow.tracking import MlflowClient

from tests.conftest import PROJECT_ROOT, run_kedro
from tests.readme_blocks import answer_after
from tests.servers import free_port, model_server, running

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
DUMMY = {"type": "sklearn.dummy.DummyClassifier", "kwargs": {"strategy": "prior"}}


def _client() -> MlflowClient:
    return MlflowClient(tracking_uri=os.environ["MLFLOW_TRACKING_URI"])


def _runs(client: MlflowClient, game: str = "game1"):
    experiment = client.get_experiment_by_name(f"sub_churn_{game}")
    return client.search_runs(
        [experiment.experiment_id], order_by=["attributes.start_time ASC"]
    )


def _set_estimator(project: Path, estimator) -> None:
    path = project / "conf" / "base" / "parameters_model.yml"
    config = yaml.safe_load(path.read_text())
    config["model"]["estimator"] = estimator
    path.write_text(yaml.safe_dump(config))


def _latest_predictions(project: Path) -> pd.DataFrame:
    folder = project / "data" / "07_model_output" / "batch_predictions.parquet"
    return pd.read_parquet(sorted(folder.iterdir())[-1] / folder.name)


def test_training_run_is_tracked_with_its_model(project_copy):
    run_kedro(project_copy, "sub_churn_train_from_raw")
    client = _client()
    (run,) = _runs(client)
    assert run.data.params["train.seed"] == "42"
    assert run.data.params["model.estimator"] == "logistic_regression"
    assert run.data.params["training.label_as_of"] == "2016-10-01"
    assert run.data.metrics["in_sample.roc_auc"] > 0.8
    tags = run.data.tags
    assert (
        tags["game"] == "game1"
        and tags["pipeline"] == "sub_churn_train_from_raw"
        and tags["kedro_env"] == "local"
    )
    assert len(tags["raw_fingerprint"]) == 64
    # MLflow's UI shows the experiment as model training, not its GenAI views
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "reports")}
    assert {
        "reports/in_sample_score_report.txt",
        "reports/in_sample_metrics.json",
    } <= artifacts
    # the model really was logged (kedro-mlflow has lost models silently before)
    model = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/model")
    assert model.metadata.signature is not None
    features = pd.read_parquet(
        project_copy / "data" / "04_feature" / "train_features.parquet"
    )
    predicted = model.predict(features.head(20))
    assert (
        list(predicted.columns) == ["sub_id", "sub_churn_pred"]
        and predicted["sub_churn_pred"].between(0, 1).all()
    )
    example = model.metadata.load_input_example(model.metadata.artifact_path or "")
    assert example is None or len(example) > 0


def test_promotion_moves_the_champion_only_for_a_better_model(project_copy):
    client = _client()

    def train_and_score(estimator) -> dict:
        _set_estimator(project_copy, estimator)
        run_kedro(project_copy, "sub_churn_train_from_raw")
        run_kedro(project_copy, "sub_churn_score_from_raw")
        return json.loads(
            (
                project_copy / "data" / "08_reporting" / "promotion_decision.json"
            ).read_text()
        )

    first = train_and_score(DUMMY)  # a constant model: ROC-AUC 0.5
    assert first["promote"] and first["champion_roc_auc"] is None
    champion = client.get_model_version_by_alias("sub_churn_game1", "champion")

    better = train_and_score("logistic_regression")
    assert better["promote"] and better["difference_low"] > better["min_gain"]
    assert better["candidate_roc_auc"] > better["champion_roc_auc"]
    promoted = client.get_model_version_by_alias("sub_churn_game1", "champion")
    assert int(promoted.version) > int(champion.version)

    worse = train_and_score(DUMMY)
    assert not worse["promote"]
    assert (
        client.get_model_version_by_alias("sub_churn_game1", "champion").version
        == promoted.version
    )
    # every distinct candidate registered once: the constant model trained again is
    # the same model (same configuration, seed and rows), so the same version
    versions = client.search_model_versions("name='sub_churn_game1'")
    assert sorted(int(v.version) for v in versions) == [1, 2]
    assert worse["candidate_model_id"] == first["candidate_model_id"]
    run_kedro(project_copy, "sub_churn_score_from_raw")  # scored again
    assert len(client.search_model_versions("name='sub_churn_game1'")) == 2
    runs = _runs(client)
    promote_run = [
        r for r in runs if r.data.tags["pipeline"] == "sub_churn_score_from_raw"
    ][-1]
    assert promote_run.data.metrics["promotion.promoted"] == 0.0
    assert "promotion.champion_roc_auc" in promote_run.data.metrics

    # batch prediction uses the champion, not the latest (worse) model
    run_kedro(project_copy, "sub_churn_batch_predict")
    sources = _latest_predictions(project_copy)["model_source"].unique()
    assert list(sources) == [
        f"models:/sub_churn_game1@champion (version {promoted.version})"
    ]


def test_served_champion_answers_like_batch_predict(project_copy, tmp_path):
    run_kedro(project_copy, "__default__")
    predictions = _latest_predictions(project_copy)
    features = pd.read_parquet(
        project_copy / "data" / "04_feature" / "batch_predict_features.parquet"
    ).head(25)
    port = free_port()
    with model_server("models:/sub_churn_game1@champion", port, tmp_path / "serve.log"):
        body = json.dumps(
            {
                "dataframe_split": json.loads(
                    features.to_json(orient="split", index=False, date_format="iso")
                )
            }
        )
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations",
            data=body.encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = pd.DataFrame(json.loads(response.read())["predictions"])
        # the README's curl example posts docs/invocations_example.json: it must still fit
        example = (PROJECT_ROOT / "docs" / "invocations_example.json").read_bytes()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations",
            data=example,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            documented = pd.DataFrame(json.loads(response.read())["predictions"])
    assert len(documented) == 2 and documented["sub_churn_pred"].between(0, 1).all()
    # the README's answer, values included
    readme = pd.DataFrame(answer_after("docs/invocations_example.json")["predictions"])
    pd.testing.assert_frame_equal(documented, readme, rtol=1e-9)
    joined = answer.merge(predictions, on="sub_id", suffixes=("_served", "_batch"))
    assert len(joined) == len(features)
    assert (
        joined["sub_churn_pred_served"] - joined["sub_churn_pred_batch"]
    ).abs().max() < 1e-9

    # the documented online path: refresh the store, `make serve PORT=<n>`, the
    # README's request (docs/online_request_example.json)
    run_kedro(project_copy, "sub_churn_refresh_online_store")
    venv = Path(sys.prefix)
    port = free_port()
    command = [
        "make",
        "--no-print-directory",
        f"VENV={venv}",
        "-o",
        str(venv / ".installed"),  # the environment is the one running these tests
        "serve",
        f"PORT={port}",
    ]
    with running(command, f"http://127.0.0.1:{port}/ping", tmp_path / "make_serve.log"):
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations",
            data=(PROJECT_ROOT / "docs" / "online_request_example.json").read_bytes(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            online = pd.DataFrame(json.loads(response.read())["predictions"])
    example = json.loads(
        (PROJECT_ROOT / "docs" / "online_request_example.json").read_text()
    )
    assert online["char_id"].tolist() == [
        r["char_id"] for r in example["dataframe_records"]
    ]
    # the example asks for a character of the sample and one the store does not know
    assert online["known_character"].tolist() == [True, False]
    readme = pd.DataFrame(
        answer_after("docs/online_request_example.json")["predictions"]
    )
    pd.testing.assert_frame_equal(online, readme, rtol=1e-9, check_dtype=False)
    assert online["sub_churn_pred"].between(0, 1).all()
    assert len(set(online["sub_start_date"])) == 1

    # a store refreshed for another model: `kedro serve` refuses it before serving
    store = project_copy / "data" / "04_feature" / "online_store.sqlite"
    with sqlite3.connect(store) as connection:
        connection.execute(
            "UPDATE meta SET value = '\"m-other\"' WHERE key = 'model_id'"
        )
    connection.close()
    refused = subprocess.run(
        [str(BIN / "kedro"), "serve", "--port", str(free_port())],
        cwd=project_copy,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "refreshed for model m-other" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_tracking_server_receives_the_training_run(project_copy, tmp_path, monkeypatch):
    port = free_port()
    command = [
        str(BIN / "mlflow"),
        "server",
        "--backend-store-uri",
        f"sqlite:///{tmp_path / 'server.db'}",
        "--artifacts-destination",
        str(tmp_path / "server-artifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    uri = f"http://127.0.0.1:{port}"
    with running(command, f"{uri}/health", tmp_path / "server.log"):
        monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
        run_kedro(project_copy, "sub_churn_train_from_raw")
        client = MlflowClient(tracking_uri=uri)
        (run,) = _runs(client)
        assert run.data.metrics["in_sample.roc_auc"] > 0.8
        assert "reports/in_sample_score_report.txt" in {
            a.path for a in client.list_artifacts(run.info.run_id, "reports")
        }
    assert not (project_copy / "mlflow.db").exists()  # nothing went to the local store
