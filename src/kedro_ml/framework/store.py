"""The MLflow tracking store of a run: which one, that a server answers, an sqlite store made once."""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import click

from kedro_ml.framework.locks import store_lock
from kedro_ml.runtime import paused_gc


class TrackingStoreError(click.ClickException):
    """The run's tracking store cannot be used; shown as a message, without a traceback."""


class TrackingServerError(TrackingStoreError):
    """The MLflow tracking server does not answer."""


# MLflow's own defaults retry a failing server 7 times with a backoff factor of
# 2 and wait 120 s per request: several minutes without a word. Bounded, a
# server that answers its health check but fails its API stops a request in
# under a minute (4 tries of at most 10 s, 7 s of backoff), naming the URI.
# Set any of them in the environment to choose otherwise.
HTTP_BOUNDS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "3",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "10",
}


def bound_http_requests() -> None:
    """Bounded retries and timeouts for MLflow's requests to a tracking server (``HTTP_BOUNDS``)."""
    for name, value in HTTP_BOUNDS.items():
        os.environ.setdefault(name, value)


def tracking_uri(config_loader: Any) -> str | None:
    """The run's tracking URI: ``MLFLOW_TRACKING_URI``, else ``mlflow.yml``'s."""
    uri = os.environ.get("MLFLOW_TRACKING_URI")
    if uri is None:
        try:
            uri = (config_loader["mlflow"].get("server") or {}).get(
                "mlflow_tracking_uri"
            )
        except Exception:  # noqa: BLE001 - no mlflow.yml: kedro-mlflow's defaults apply
            uri = None
    return str(uri) if uri else None


def check_tracking_server(uri: str, timeout: float = 5.0) -> None:
    """Raise ``TrackingServerError`` quickly unless an http(s) tracking URI answers 2xx.

    MLflow retries a server that errors for minutes; a server that answers
    ``/health`` with anything but 2xx (503 while it starts, a proxy's 502, a
    404 from something that is not MLflow) stops the run within seconds.
    """
    if not uri.startswith(("http://", "https://")):
        return
    health = f"{uri.rstrip('/')}/health"
    try:
        with urllib.request.urlopen(health, timeout=timeout):
            return
    except urllib.error.HTTPError as exc:
        raise TrackingServerError(
            f"The MLflow tracking server at {uri} answers {health} with HTTP "
            f"{exc.code} {exc.reason}: it is not ready (or not MLflow). Start or fix it, "
            "or unset MLFLOW_TRACKING_URI to track in the local mlflow.db."
        ) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise TrackingServerError(
            f"The MLflow tracking server at {uri} does not answer ({getattr(exc, 'reason', exc)}). "
            "Start it, or unset MLFLOW_TRACKING_URI to track in the local mlflow.db."
        ) from exc


def create_sqlite_store(uri: str) -> None:
    """Create (or upgrade) an sqlite MLflow store once, under a lock beside its file."""
    if not uri.startswith("sqlite:///"):
        return
    database = Path(uri.removeprefix("sqlite:///"))
    with store_lock(database), paused_gc():  # the store's modules: SQLAlchemy, Alembic
        from mlflow.tracking import MlflowClient

        try:
            MlflowClient(tracking_uri=uri).search_experiments(max_results=1)
        except (
            Exception
        ) as error:  # a corrupt or foreign file, a locked or read-only one
            raise TrackingStoreError(
                f"The MLflow store {database} cannot be opened "
                f"({type(error).__name__}: {str(error).splitlines()[0][:200]}). "
                "Restore it from a backup, or move it aside to start a new store; "
                "MLFLOW_TRACKING_URI can point at another one."
            ) from error


def prepare_store(config_loader: Any) -> str | None:
    """The run's tracking URI, its server answering and its sqlite store created."""
    uri = tracking_uri(config_loader)
    if uri:
        if uri.startswith(("http://", "https://")):
            bound_http_requests()
        check_tracking_server(uri)
        create_sqlite_store(uri)
    return uri


# MLflow 3's UI shows an experiment by its kind: without one it may open the
# GenAI views (traces, prompts); this project's experiments train models.
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
MODEL_TRAINING = "custom_model_development"


def mark_model_training(experiment_name: str, client: Any = None) -> None:
    """Tag the experiment ``experiment_name`` as model training, once (nothing if it is absent)."""
    from mlflow import MlflowClient

    client = client or MlflowClient()
    experiment = client.get_experiment_by_name(experiment_name)
    if experiment is not None and (
        experiment.tags.get(EXPERIMENT_KIND_TAG) != MODEL_TRAINING
    ):
        client.set_experiment_tag(
            experiment.experiment_id, EXPERIMENT_KIND_TAG, MODEL_TRAINING
        )
