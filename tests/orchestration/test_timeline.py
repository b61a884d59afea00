"""A project command's MLflow runs, on a real sqlite store: parent, children, status, metrics."""

from __future__ import annotations

import os
import socket

import mlflow
import pytest

from kedro_ml.framework.lineage import HOST_TAG, PID_TAG
from kedro_ml.orchestration.timeline import log_metrics, tracked_run


@pytest.fixture
def experiment(tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    return mlflow.MlflowClient().create_experiment("command")


def test_a_command_run_and_its_step_runs_end_finished_with_their_owner(experiment):
    client = mlflow.MlflowClient()
    with tracked_run(
        experiment, "replay · game1", {"pipeline": "replay"}, {"k": 1}
    ) as parent:
        with tracked_run(experiment, "replay 2016-05-01", {}, parent=parent) as child:
            log_metrics(child, {"replay.batch_size": 611, "replay.psi": None}, step=3)
    parent_run, child_run = client.get_run(parent), client.get_run(child)
    assert parent_run.info.status == child_run.info.status == "FINISHED"
    assert child_run.data.tags["mlflow.parentRunId"] == parent
    assert parent_run.data.params == {"k": "1"}
    assert parent_run.data.tags[HOST_TAG] == socket.gethostname()
    assert parent_run.data.tags[PID_TAG] == str(os.getpid())
    # a metric without a value is left out, not logged as NaN
    assert child_run.data.metrics == {"replay.batch_size": 611.0}
    [point] = client.get_metric_history(child, "replay.batch_size")
    assert point.step == 3


def test_a_run_whose_block_raises_ends_failed(experiment):
    client = mlflow.MlflowClient()
    with pytest.raises(RuntimeError), tracked_run(experiment, "boom", {}) as run:
        raise RuntimeError("a month failed")
    assert client.get_run(run).info.status == "FAILED"
