"""The model datasets against a real MLflow store: compare-and-set promotion, offline champion."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from kedro.io.core import DatasetError, Version

from kedro_ml.datasets.mlflow_models import (
    ChampionChangedError,
    MlflowChampionDataset,
    MlflowPromotionDataset,
)
from kedro_ml.datasets.versioned import SkopsModelDataset
from kedro_ml.framework.lineage import HOST_TAG, PID_TAG, fail_orphaned_runs
from kedro_ml.serving.inputs import model_input_example
from kedro_ml.serving.packaging import log_churn_model

pytestmark = pytest.mark.slow

NAME = "sub_churn_test"


@pytest.fixture
def store(tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("test")
    yield tmp_path
    while mlflow.active_run():
        mlflow.end_run()


def _rows(n: int = 300, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    rows = pd.DataFrame(
        {
            "sub_id": np.arange(1, n + 1),
            "price": rng.uniform(1, 20, n),
            "soft_balance_last": rng.normal(0, 1, n),
            "sub_type": rng.choice(["hard", "soft"], n),
            "noise": rng.normal(0, 1, n),
        }
    )
    y = (
        rows["price"] / 10 + rows["soft_balance_last"] + rng.normal(0, 1, n) > 1
    ).astype(int)
    return rows, y.to_numpy()


def _trained(columns: list[str], model_id: str, seed: int = 0):
    from kedro_ml.core.model import build_model

    rows, y = _rows(seed=seed)
    config = {
        "features": {"numeric": columns},
        "preprocessing": {},
        "estimator": {"type": "sklearn.linear_model.LogisticRegression"},
    }
    model = build_model(config, list(rows.columns)).fit(rows, y)
    model.model_id_ = model_id
    model.feature_names_ = columns
    return model


def _log(model) -> None:
    rows, _ = _rows()
    with mlflow.start_run():
        log_churn_model(model, model_input_example(model, rows))


def _request(model, promote: bool, seen: str | None) -> dict:
    return {
        "model_id": model.model_id_,
        "promote": promote,
        "reason": "test",
        "champion_version": seen,
        "candidate_roc_auc": 0.8,
    }


def _promote(store, request: dict) -> None:
    dataset = MlflowPromotionDataset(
        registered_model_name=NAME, record_filepath=str(store / "promotions.json")
    )
    with mlflow.start_run():
        dataset.save(request)


def _champion() -> str | None:
    try:
        return str(
            mlflow.MlflowClient().get_model_version_by_alias(NAME, "champion").version
        )
    except mlflow.exceptions.MlflowException:
        return None


def test_the_alias_moves_only_if_the_champion_is_the_one_compared_with(store):
    strong = _trained(["price", "soft_balance_last"], "strong")
    weak = _trained(["noise"], "weak")  # no better than chance
    for model in (strong, weak):
        _log(model)
    _promote(store, _request(strong, True, None))  # the first champion
    assert _champion() == "1"
    # the weak one was decided against "no champion" (a run that started
    # earlier); the champion moved meanwhile: the dataset does not decide
    # again, it stops, naming both versions and what to run
    with pytest.raises(ChampionChangedError) as info:
        _promote(store, _request(weak, True, None))
    message = str(info.value)
    assert "is version 1 now, not none" in message
    assert "Version 2 is registered, not promoted" in message
    assert "kedro run -p sub_churn_promote" in message
    assert _champion() == "1"
    version = mlflow.MlflowClient().get_model_version(NAME, "2")
    assert version.tags["promoted"] == "False"
    record = json.loads((store / "promotions.json").read_text())
    assert [entry["model_id"] for entry in record] == ["strong"]
    # no lock is left in the registry
    names = [m.name for m in mlflow.MlflowClient().search_registered_models()]
    assert names == [NAME]


def test_a_candidate_not_promoted_is_registered_but_leaves_the_champion(store):
    first = _trained(["price", "soft_balance_last"], "first")
    second = _trained(["price", "soft_balance_last"], "second", seed=1)
    for model in (first, second):
        _log(model)
    _promote(store, _request(first, True, None))
    _promote(store, _request(second, False, "1"))
    assert _champion() == "1"
    assert len(mlflow.MlflowClient().search_model_versions(f"name='{NAME}'")) == 2


def test_the_offline_champion_is_the_newest_locally_promoted_model(store):
    models = SkopsModelDataset(
        filepath=str(store / "model.skops"), version=Version(None, None)
    )
    strong = _trained(["price", "soft_balance_last"], "strong")
    models.save(strong)
    _log(strong)
    _promote(store, _request(strong, True, None))
    # a newer local model that was never promoted (a run killed before scoring)
    SkopsModelDataset(
        filepath=str(store / "model.skops"), version=Version(None, None)
    ).save(_trained(["noise"], "unscored"))
    offline = MlflowChampionDataset(
        registered_model_name=NAME,
        source="local",
        record_filepath=str(store / "promotions.json"),
        models_filepath=str(store / "model.skops"),
    )
    champion = offline.load()
    assert champion.model_id == "strong" and champion.version == "1"
    assert champion.source.startswith("local ")


def test_without_a_champion_it_says_what_to_run(store):
    registry = MlflowChampionDataset(registered_model_name=NAME)
    with pytest.raises(DatasetError, match="sub_churn_score_from_raw"):
        registry.load()
    assert not registry.exists()
    assert (
        MlflowChampionDataset(registered_model_name=NAME, missing_ok=True).load()
        is None
    )
    offline = MlflowChampionDataset(
        registered_model_name=NAME,
        source="local",
        record_filepath=str(store / "promotions.json"),
        models_filepath=str(store / "model.skops"),
    )
    with pytest.raises(DatasetError, match="sub_churn_score_from_raw"):
        offline.load()


def test_runs_left_running_by_a_killed_process_are_marked_failed(store):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # its pid now belongs to no process
    import socket

    client = mlflow.MlflowClient()
    experiment = mlflow.get_experiment_by_name("test").experiment_id
    orphan = client.create_run(
        experiment, tags={HOST_TAG: socket.gethostname(), PID_TAG: str(dead.pid)}
    )
    mine = client.create_run(
        experiment, tags={HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}
    )
    elsewhere = client.create_run(
        experiment, tags={HOST_TAG: "another-host", PID_TAG: "1"}
    )
    assert fail_orphaned_runs() == [orphan.info.run_id]
    assert client.get_run(orphan.info.run_id).info.status == "FAILED"
    assert client.get_run(mine.info.run_id).info.status == "RUNNING"
    assert client.get_run(elsewhere.info.run_id).info.status == "RUNNING"


def test_logging_a_model_does_not_import_ipython(store, monkeypatch):
    """MLflow asks whether it runs in a notebook for every logged model (importing IPython)."""
    model = _trained(["price", "soft_balance_last"], "m-ipython")
    rows, _ = _rows()
    with mlflow.start_run():
        monkeypatch.delitem(sys.modules, "IPython", raising=False)
        info = log_churn_model(model, model_input_example(model, rows))
        assert "IPython" not in sys.modules
    assert mlflow.pyfunc.load_model(info.model_uri).predict(rows).shape[0] == len(rows)


PROMOTE = """
import sys, time
from pathlib import Path
import mlflow
from kedro_ml.datasets.mlflow_models import ChampionChangedError, MlflowPromotionDataset

store, model_id, go = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
mlflow.set_tracking_uri(sys.argv[4])
mlflow.set_experiment("test")
dataset = MlflowPromotionDataset(
    registered_model_name="sub_churn_test", record_filepath=str(store / "promotions.json")
)
request = {"model_id": model_id, "promote": True, "reason": "race",
           "champion_version": None, "candidate_roc_auc": 0.8}
print("ready", flush=True)
while not go.exists():
    time.sleep(0.01)
with mlflow.start_run():
    try:
        dataset.save(request)
        print("PROMOTED", flush=True)
    except ChampionChangedError as error:
        print("LOST", error, flush=True)
"""


def race_promotions(folders: list[Path], uri: str) -> None:
    """Two processes, one per folder (a clone), promote their model at once against "no champion".

    Exactly one becomes champion of the store at ``uri``; the other is told why.
    """
    models = [
        _trained(["price", "soft_balance_last"], f"racer-{i}", seed=i) for i in (1, 2)
    ]
    for model in models:
        _log(model)
    go = folders[0] / "go"
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", PROMOTE, str(folder), model.model_id_, str(go), uri],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=folder,
        )
        for folder, model in zip(folders, models, strict=True)
    ]
    try:
        for racer in racers:  # MLflow may log first (a new experiment)
            lines = iter(racer.stdout.readline, "")
            assert any(line.strip() == "ready" for line in lines)
        go.touch()
        outputs = [racer.communicate(timeout=120)[0] for racer in racers]
    finally:
        for racer in racers:
            racer.kill()
    assert all(racer.returncode == 0 for racer in racers), outputs
    winners = [out for out in outputs if "PROMOTED" in out]
    losers = [out.split("LOST", 1)[1] for out in outputs if "LOST" in out]
    assert len(winners) == 1 and len(losers) == 1, outputs
    client = mlflow.MlflowClient(uri)
    champion = client.get_model_version_by_alias(NAME, "champion")
    assert champion.tags["promoted"] == "True"
    assert "is version" in losers[0] and "not none" in losers[0]
    assert f"is version {champion.version} now" in losers[0]
    assert "kedro run -p sub_churn_promote" in losers[0]
    versions = client.search_model_versions(f"name='{NAME}'")
    assert sorted(v.tags.get("promoted") for v in versions) == ["False", "True"]
    records = [
        json.loads((folder / "promotions.json").read_text())
        for folder in dict.fromkeys(folders)  # a folder once, however many racers
        if (folder / "promotions.json").exists()
    ]
    assert [len(record) for record in records] == [1]
    assert records[0][0]["version"] == str(champion.version)


def test_two_processes_promote_at_once_and_one_wins(store):
    """Both decided against "no champion"; exactly one becomes champion, the other is told why."""
    race_promotions([store, store], os.environ["MLFLOW_TRACKING_URI"])


def test_a_dangling_alias_is_not_taken_for_no_champion(store):
    """The champion's files deleted: loading it stops naming alias and version."""
    import shutil
    from urllib.parse import urlparse

    from kedro_ml.datasets.mlflow_models import RegistryReadError

    model = _trained(["price", "soft_balance_last"], "gone")
    _log(model)
    _promote(store, _request(model, True, None))
    version = mlflow.MlflowClient().get_model_version(NAME, "1")
    logged = mlflow.get_logged_model(version.source.removeprefix("models:/"))
    shutil.rmtree(urlparse(logged.artifact_location).path)
    champion = MlflowChampionDataset(registered_model_name=NAME, missing_ok=True)
    with pytest.raises(RegistryReadError) as info:
        champion.load()
    message = str(info.value)
    assert f"models:/{NAME}@champion is version 1" in message
    assert "not in the artifact store" in message


def test_an_unreadable_store_is_not_taken_for_no_champion(tmp_path, monkeypatch):
    from kedro_ml.datasets.mlflow_models import RegistryReadError

    broken = tmp_path / "mlflow.db"
    broken.write_bytes(b"this is not an sqlite database" * 100)
    uri = f"sqlite:///{broken}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    champion = MlflowChampionDataset(registered_model_name=NAME, missing_ok=True)
    with pytest.raises(RegistryReadError) as info:
        champion.load()  # missing_ok would have said "no champion yet" before
    assert str(broken) in str(info.value) and "could not be read" in str(info.value)


def _store_folder(name: str, version: str):
    from urllib.parse import urlparse

    source = mlflow.MlflowClient().get_model_version(name, version).source
    logged = mlflow.get_logged_model(source.removeprefix("models:/"))
    from pathlib import Path

    return Path(urlparse(logged.artifact_location).path)


def test_a_model_file_swapped_in_the_store_is_refused_naming_the_version(store):
    from kedro_ml.datasets.mlflow_models import RegistryReadError

    champion, other = (
        _trained(["price", "soft_balance_last"], name, seed=i)
        for i, name in enumerate(("kept", "swapped-in"))
    )
    for model in (champion, other):
        _log(model)
    _promote(store, _request(champion, True, None))
    _promote(store, _request(other, False, "1"))
    # another valid model's file in place of the champion's
    skops = "artifacts/sklearn_model.skops"
    (_store_folder(NAME, "1") / skops).write_bytes(
        (_store_folder(NAME, "2") / skops).read_bytes()
    )
    champion_dataset = MlflowChampionDataset(registered_model_name=NAME)
    with pytest.raises(RegistryReadError) as info:
        champion_dataset.load()
    message = str(info.value)
    assert f"models:/{NAME}@champion is version 1" in message
    assert "is not the one logged" in message and "SHA-256" in message


def test_code_appended_in_the_store_never_runs(store, tmp_path):
    from kedro_ml.datasets.mlflow_models import RegistryReadError
    from kedro_ml.serving.app import load

    model = _trained(["price", "soft_balance_last"], "tampered")
    _log(model)
    _promote(store, _request(model, True, None))
    marker = tmp_path / "ran"
    code = _store_folder(NAME, "1") / "model_code.py"
    code.write_text(code.read_text() + f"\nopen({str(marker)!r}, 'w').close()\n")
    with pytest.raises(RegistryReadError, match="not the ones logged"):
        MlflowChampionDataset(registered_model_name=NAME).load()
    from kedro_ml.serving.integrity import IntegrityError

    with pytest.raises(IntegrityError, match="not the ones logged"):
        load(f"models:/{NAME}@champion")  # kedro serve's loader
    assert not marker.exists()


def test_a_version_without_recorded_digests_is_refused(store):
    from kedro_ml.datasets.mlflow_models import RegistryReadError
    from kedro_ml.serving.integrity import DIGEST_TAGS

    model = _trained(["price", "soft_balance_last"], "unchecked")
    _log(model)
    _promote(store, _request(model, True, None))
    client = mlflow.MlflowClient()
    for tag in DIGEST_TAGS:  # as a version registered before digests were recorded
        client.delete_model_version_tag(NAME, "1", tag)
    with pytest.raises(RegistryReadError, match="has no recorded digests"):
        MlflowChampionDataset(registered_model_name=NAME).load()


def test_the_standalone_check_needs_only_mlflow_and_fails_on_a_changed_file(
    store, tmp_path
):
    """For `mlflow models serve` without kedro_ml: a copy of integrity.py, run first."""
    import shutil

    from tests.conftest import PROJECT_ROOT

    model = _trained(["price", "soft_balance_last"], "deployed")
    _log(model)
    _promote(store, _request(model, True, None))
    script = tmp_path / "integrity.py"
    shutil.copy(PROJECT_ROOT / "src" / "kedro_ml" / "serving" / "integrity.py", script)
    env = {**os.environ, "MLFLOW_TRACKING_URI": mlflow.get_tracking_uri()}

    def check() -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, str(script), f"models:/{NAME}@champion"],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            check=False,
        )

    ok = check()
    assert ok.returncode == 0 and "verified" in ok.stdout, ok.stderr[-2000:]
    requirements = _store_folder(NAME, "1") / "requirements.txt"
    requirements.write_text(requirements.read_text() + "evil-package==1.0\n")
    changed = check()
    assert changed.returncode == 1
    assert "NOT VERIFIED" in changed.stderr and "version 1" in changed.stderr
