"""``make mlflow-ui``'s links: each champion's page and each game's latest lifecycle run."""

from __future__ import annotations

from mlflow import MlflowClient

from kedro_ml.framework.links import main, ui_links
from kedro_ml.framework.store import MODEL_TRAINING, mark_model_training


def test_links_name_the_champion_and_the_latest_lifecycle_run(tmp_path, capsys):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(uri)
    experiment = client.create_experiment("sub_churn_game1")
    older = client.create_run(experiment, tags={"pipeline": "__default__"})
    client.set_terminated(older.info.run_id)
    latest = client.create_run(experiment, tags={"pipeline": "__default__"})
    client.set_terminated(latest.info.run_id)
    client.create_run(
        experiment, tags={"pipeline": "sub_churn_train"}
    )  # not a lifecycle
    client.create_registered_model("sub_churn_game1")
    for _ in range(2):
        client.create_model_version(
            "sub_churn_game1", source=str(tmp_path), run_id=latest.info.run_id
        )
    client.set_registered_model_alias("sub_churn_game1", "champion", "2")
    client.create_registered_model("sub_churn_game2")  # no champion: no line

    lines = list(ui_links(client, "http://127.0.0.1:5000"))
    assert lines == [
        "champion of sub_churn_game1 (version 2): "
        "http://127.0.0.1:5000/#/models/sub_churn_game1/versions/2"
        "?workflowType=machine_learning",
        "latest lifecycle run of sub_churn_game1 (finished): "
        f"http://127.0.0.1:5000/#/experiments/{experiment}/runs/{latest.info.run_id}"
        "?workflowType=machine_learning",
    ]
    main(["--tracking-uri", uri, "--port", "5999"])
    printed = capsys.readouterr().out
    assert "MLflow UI on http://127.0.0.1:5999" in printed
    assert "/#/models/sub_churn_game1/versions/2" in printed


def test_an_empty_store_says_what_makes_the_links(tmp_path, capsys):
    main(["--tracking-uri", f"sqlite:///{tmp_path / 'mlflow.db'}"])
    assert "make run makes both" in capsys.readouterr().out


def test_experiments_are_marked_as_model_training_once(tmp_path):
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = client.create_experiment("sub_churn_game1")
    mark_model_training("sub_churn_game1", client)
    mark_model_training("sub_churn_game1", client)
    mark_model_training("absent", client)  # nothing to mark
    tags = client.get_experiment(experiment).tags
    assert tags["mlflow.experimentKind"] == MODEL_TRAINING
