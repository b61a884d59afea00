"""The MLflow runs of a project command: one parent run, a child run per step, metrics by step.

A project command (``kedro replay``, ``kedro retrain-if-drifted``) is an
MLflow run of its own; each of its steps (a replayed month) is a child run,
and the Kedro runs a step starts are children of it (``triggered_by``). Every
run carries its owner's host and process from its creation
(``kedro_ml.framework.lineage``), and ends FINISHED, or FAILED when its block
raised: none stays RUNNING.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping
from typing import Any

from mlflow import MlflowClient
from mlflow.entities import Metric, Param

from kedro_ml.core.replay import timeline_figure
from kedro_ml.framework.catalog import dataset_filepath
from kedro_ml.framework.lineage import owner


def experiment_id(context: Any) -> str:
    """The id of the experiment kedro-mlflow set up for ``context`` (``mlflow.yml``)."""
    name = context.mlflow.tracking.experiment.name
    return MlflowClient().get_experiment_by_name(name).experiment_id


@contextlib.contextmanager
def tracked_run(
    experiment: str,
    name: str,
    tags: Mapping[str, str],
    params: Mapping[str, Any] | None = None,
    parent: str | None = None,
) -> Iterator[str]:
    """A run of ``experiment`` (a child of ``parent``, if given) for the block; yields its id."""
    client = MlflowClient()
    all_tags = {**tags, **owner()}
    if parent:
        all_tags["mlflow.parentRunId"] = parent
    run = client.create_run(experiment, run_name=name, tags=all_tags)
    run_id = run.info.run_id
    if params:
        client.log_batch(
            run_id, params=[Param(key, str(value)) for key, value in params.items()]
        )
    status = "FAILED"
    try:
        yield run_id
        status = "FINISHED"
    finally:
        client.set_terminated(run_id, status)


def log_metrics(
    run_id: str, metrics: Mapping[str, float | None], step: int = 0
) -> None:
    """Log the metrics that have a value, at ``step``, in one batch."""
    now = int(time.time() * 1000)
    batch = [
        Metric(key, float(value), now, int(step))
        for key, value in metrics.items()
        if value is not None
    ]
    if batch:
        MlflowClient().log_batch(run_id, metrics=batch)


def write_timeline(outputs: Any, parent: str, timeline: dict) -> None:
    """A replay's timeline: ``replay_timeline`` and its plot in the catalog ``outputs``, metrics by month on ``parent``."""
    names = {"json": "replay_timeline", "png": "replay_timeline_plot"}
    timeline["outputs"] = {
        kind: str(dataset_filepath(outputs, name)) for kind, name in names.items()
    }
    client = MlflowClient()
    outputs.save("replay_timeline", timeline)
    client.log_dict(parent, timeline, "replay/timeline.json")
    if timeline["months"]:
        figure = timeline_figure(timeline)
        outputs.save("replay_timeline_plot", figure)
        client.log_figure(parent, figure, "replay/timeline.png")
    for step, entry in enumerate(timeline["months"], start=1):
        batch = timeline["batches"].get(entry["month"]) or {}
        metrics = {
            "share_drifted": entry.get("share_drifted"),
            "batch_roc_auc": batch.get("roc_auc"),
            "batch_oracle_roc_auc": batch.get("oracle_roc_auc"),
            "batch_ece": batch.get("ece"),
        }
        log_metrics(parent, {f"replay.{k}": v for k, v in metrics.items()}, step)
    log_metrics(parent, {"replay.seconds": timeline["seconds"]})
