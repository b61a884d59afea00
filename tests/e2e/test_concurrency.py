"""Runs at once, runs killed midway: nothing lost, one champion, no run RUNNING forever."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from kedro_ml.framework.locks import store_lock
from tests.conftest import run_kedro

pytestmark = pytest.mark.slow

KEDRO = str(Path(sys.executable).with_name("kedro"))


def _start(project: Path, *args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [KEDRO, "run", *args],
        cwd=project,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _finish(process: subprocess.Popen, timeout: float = 600) -> tuple[int, str]:
    output, _ = process.communicate(timeout=timeout)
    return process.returncode, output


def _client(project: Path) -> mlflow.MlflowClient:
    return mlflow.MlflowClient(f"sqlite:///{project / 'mlflow.db'}")


def _latest_predictions(project: Path) -> pd.DataFrame:
    folder = project / "data" / "07_model_output" / "batch_predictions.parquet"
    return pd.read_parquet(sorted(folder.iterdir())[-1] / folder.name)


def test_two_runs_at_once_take_turns_and_the_champion_moves_once(project_copy):
    run_kedro(project_copy, "sub_churn_train_from_raw")
    first = _start(project_copy, "-p", "sub_churn_score_from_raw")
    time.sleep(2)
    second = _start(project_copy, "-p", "sub_churn_score_from_raw")
    (code_1, out_1), (code_2, out_2) = _finish(first), _finish(second)
    assert code_1 == 0, out_1[-3000:]
    assert code_2 == 0, out_2[-3000:]
    # the later run waited for the lock, naming who held it
    assert "Waiting for" in out_1 + out_2 and ".kedro_ml.lock" in out_1 + out_2
    client = _client(project_copy)
    # both scored the same model: it is registered once, as one version
    assert len(client.search_model_versions("name='sub_churn_game1'")) == 1
    assert (
        str(client.get_model_version_by_alias("sub_churn_game1", "champion").version)
        == "1"
    )
    # the second decided against the champion the first made (the same model:
    # not better beyond noise), instead of both becoming champion
    decision = json.loads(
        (project_copy / "data" / "08_reporting" / "promotion_decision.json").read_text()
    )
    assert decision["champion_version"] == "1" and decision["promote"] is False


def test_two_games_at_once_create_one_tracking_store(project_copy):
    assert not (project_copy / "mlflow.db").exists()
    game1 = _start(project_copy, "-p", "sub_churn_train_from_raw")
    game2 = _start(project_copy, "-p", "sub_churn_train_from_raw", "--env=game2_env")
    (code_1, out_1), (code_2, out_2) = _finish(game1), _finish(game2)
    assert code_1 == 0, out_1[-3000:]
    assert code_2 == 0, out_2[-3000:]
    assert "alembic" not in (out_1 + out_2).lower()
    names = {e.name for e in _client(project_copy).search_experiments()}
    assert {"sub_churn_game1", "sub_churn_game2"} <= names


def _running_runs(project: Path) -> list:
    if not (project / "mlflow.db").exists():
        return []
    with store_lock(project / "mlflow.db"):  # never while a run creates the store
        client = _client(project)
        client.search_experiments(max_results=1)
    experiment = client.get_experiment_by_name("sub_churn_game1")
    if experiment is None:
        return []
    return client.search_runs(
        [experiment.experiment_id], filter_string="attributes.status = 'RUNNING'"
    )


def test_a_run_killed_midway_is_marked_failed_by_the_next_one(project_copy):
    process = _start(project_copy, "-p", "sub_churn_train_from_raw")
    deadline = time.monotonic() + 120
    while not _running_runs(project_copy):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.5)
    (killed,) = _running_runs(project_copy)
    os.killpg(process.pid, signal.SIGKILL)  # no chance to close its MLflow run
    process.wait()
    assert _client(project_copy).get_run(killed.info.run_id).info.status == "RUNNING"
    run_kedro(project_copy, "sub_churn_standard_features")
    assert _client(project_copy).get_run(killed.info.run_id).info.status == "FAILED"
    assert _running_runs(project_copy) == []


def test_batch_prediction_uses_the_champion_not_an_unscored_model(project_copy):
    run_kedro(project_copy, "__default__")
    client = _client(project_copy)
    champion = client.get_model_version_by_alias("sub_churn_game1", "champion")
    champion_id = champion.tags["kedro_ml.model_id"]
    # a newer local model, trained and never scored or promoted (a run killed there)
    run_kedro(
        project_copy,
        "sub_churn_train",
        params={"model": {"estimator": "random_forest"}},
    )
    run_kedro(project_copy, "sub_churn_batch_predict")
    predictions = _latest_predictions(project_copy)
    assert (predictions["model_id"] == champion_id).all()
    assert predictions["model_source"].str.contains("@champion").all()


def test_offline_batch_prediction_uses_the_newest_locally_promoted_model(
    project_copy, tmp_path, monkeypatch
):
    run_kedro(project_copy, "__default__")
    promoted = json.loads(
        (project_copy / "data" / "06_models" / "promotions.json").read_text()
    )[-1]
    run_kedro(
        project_copy,
        "sub_churn_train",
        params={"model": {"estimator": "random_forest"}},
    )
    # no registry at hand: a store that has never seen this game
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'elsewhere.db'}")
    run_kedro(project_copy, "sub_churn_batch_predict", params={"model_source": "local"})
    predictions = _latest_predictions(project_copy)
    assert (predictions["model_id"] == promoted["model_id"]).all()
    assert predictions["model_source"].str.startswith("local ").all()


def test_promotion_refuses_a_model_trained_after_the_scoring(project_copy):
    """Train A, score A, train B without scoring it: promotion must not register B."""
    from kedro_ml.core.promotion import NotTheScoredModelError

    run_kedro(project_copy, "sub_churn_train_from_raw")
    run_kedro(project_copy, "sub_churn_score")
    scored = json.loads(
        (project_copy / "data" / "08_reporting" / "score_metrics.json").read_text()
    )["model_id"]
    run_kedro(
        project_copy,
        "sub_churn_train",
        params={"model": {"estimator": "random_forest"}},
    )
    with pytest.raises(NotTheScoredModelError) as info:
        run_kedro(project_copy, "sub_churn_promote")
    assert f"of model {scored}" in str(info.value)
    client = _client(project_copy)
    assert client.search_registered_models(filter_string="name='sub_churn_game1'") == []
    assert not (project_copy / "data" / "06_models" / "promotions.json").exists()


def _wait_for_running(project: Path, process: subprocess.Popen, runs=_running_runs):
    deadline = time.monotonic() + 180
    while not (found := runs(project)):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.5)
    return found


class _Output:
    """The process's output, read on a thread as it comes."""

    def __init__(self, process: subprocess.Popen) -> None:
        import threading

        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen) -> None:
        for line in process.stdout:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self.lines.append("")  # the end
            self._changed.notify_all()

    def wait_for(self, text: str, timeout: float = 180) -> None:
        with self._changed:
            found = self._changed.wait_for(
                lambda: any(text in line for line in self.lines) or "" in self.lines,
                timeout,
            )
        assert found and any(text in line for line in self.lines), self.text()

    def text(self) -> str:
        self._thread.join(timeout=120)
        return "".join(self.lines)


def test_a_run_stopped_by_sigterm_is_marked_failed_and_frees_the_game(project_copy):
    """A scheduler or container stop sends SIGTERM: the run fails as a run, not as a kill."""
    process = _start(project_copy, "-p", "sub_churn_train_from_raw")
    output = _Output(process)
    # in the middle of the run, as training starts: nodes are still to come
    output.wait_for("] train_model")
    (running,) = _running_runs(project_copy)
    os.killpg(process.pid, signal.SIGTERM)
    code = process.wait(timeout=120)
    printed = output.text()
    assert code != 0 and "stopped by signal SIGTERM" in printed, printed[-2000:]
    assert _client(project_copy).get_run(running.info.run_id).info.status == "FAILED"
    # the game's lock went with it: the next run starts at once
    run_kedro(project_copy, "sub_churn_standard_features")


def _replay_runs(project: Path) -> list:
    if not (project / "mlflow.db").exists():
        return []
    with store_lock(project / "mlflow.db"):
        client = _client(project)
        client.search_experiments(max_results=1)
    found = []
    for experiment in client.search_experiments():
        found += client.search_runs(
            [experiment.experiment_id],
            filter_string="tags.pipeline = 'replay' and attributes.status = 'RUNNING'",
        )
    return found


def test_a_killed_replay_leaves_no_run_running_after_the_next_start(project_copy):
    """kill -9 cannot be caught: the next run of the project closes what it left."""
    process = subprocess.Popen(
        [KEDRO, "replay", "--from", "2017-01-01", "--to", "2017-06-01"],
        cwd=project_copy,
        env={**os.environ, "COLUMNS": "200"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 180
    while len(_replay_runs(project_copy)) < 2:  # the parent and a month's run
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.5)
    left = _replay_runs(project_copy)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    run_kedro(project_copy, "sub_churn_standard_features")
    client = _client(project_copy)
    statuses = {client.get_run(run.info.run_id).info.status for run in left}
    assert statuses == {"FAILED"}
    assert _replay_runs(project_copy) == []


def _unreadable(data: Path) -> list[str]:
    """Every table, record and plot under ``data`` that does not load whole."""
    broken = []
    for path in sorted(data.rglob("*")):
        if not path.is_file() or path.name.startswith(".") or "01_raw" in path.parts:
            continue
        try:
            if path.suffix == ".parquet":
                pd.read_parquet(path)
            elif path.suffix == ".json":
                json.loads(path.read_text())
            elif path.suffix == ".png":
                assert path.read_bytes().endswith(b"IEND\xaeB`\x82")
        except Exception as error:  # noqa: BLE001 - each one is reported
            broken.append(f"{path}: {error}")
    return broken


def test_kill_9_at_any_point_of_a_run_leaves_every_file_whole(project_copy):
    """Killed at five moments of a training run: every file loads and the rerun succeeds."""
    import random

    started = time.monotonic()
    run_kedro(project_copy, "sub_churn_train_from_raw")
    took = time.monotonic() - started
    data = project_copy / "data"
    rng = random.Random(7)
    for _ in range(5):
        process = _start(project_copy, "-p", "sub_churn_train_from_raw")
        try:
            process.wait(timeout=rng.uniform(0.3, 1.0) * took)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        assert process.returncode == -signal.SIGKILL, output[-2000:]
        assert _unreadable(data) == []
    run_kedro(project_copy, "sub_churn_train_from_raw")
    assert _unreadable(data) == []
    # what the killed writes left beside the files the rerun wrote again is gone
    left = [p for p in data.rglob(".*.partial*") if "01_raw" not in p.parts]
    assert left == []
