"""Checks that stop a run before its first node, with a message saying what to do."""

from __future__ import annotations

import os
import re
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl

from kedro_ml.core.params import validate_parameters
from kedro_ml.hooks.locks import store_lock

_GAME_ALIAS = re.compile(r"(?P<pipeline>.+)_(?P<game>game\d+)")


class GameMismatchError(RuntimeError):
    """A game's pipeline alias was run in another game's environment."""


class TrackingServerError(RuntimeError):
    """The MLflow tracking server does not answer."""


def check_game_alias(run_params: dict[str, Any], game: str) -> None:
    """Stop ``<pipeline>_<game>`` names run outside that game's environment.

    The original project named game 2's pipelines ``<pipeline>_game2``; here a
    game is a Kedro environment, and those names run the same pipelines.
    """
    for name in run_params.get("pipeline_names") or []:
        match = _GAME_ALIAS.fullmatch(name)
        if match and match["game"] != game:
            env = f"{match['game']}_env"
            current = run_params.get("env") or "the default environment"
            raise GameMismatchError(
                f"Pipeline '{name}' runs {match['game']}, but this run's environment "
                f"({current}) is {game}. Add --env={env}: "
                f"kedro run --env={env} -p {name}"
            )


def check_parameters(pipeline: Any, parameters: dict[str, Any]) -> None:
    """Validate the parameter blocks the pipeline reads (``params:<block>...`` inputs)."""
    used = {
        name.split(":", 1)[1].split(".", 1)[0]
        for name in pipeline.inputs()
        if name.startswith("params:")
    }
    validate_parameters(parameters, used)


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
    with store_lock(database):
        from mlflow.tracking import MlflowClient

        MlflowClient(tracking_uri=uri).search_experiments(max_results=1)


def tracking_uri(context: Any) -> str | None:
    """The run's tracking URI: ``MLFLOW_TRACKING_URI``, else ``mlflow.yml``'s."""
    uri = os.environ.get("MLFLOW_TRACKING_URI")
    if uri is None:
        try:
            uri = (context.config_loader["mlflow"].get("server") or {}).get(
                "mlflow_tracking_uri"
            )
        except Exception:  # noqa: BLE001 - no mlflow.yml: kedro-mlflow's defaults apply
            uri = None
    return str(uri) if uri else None


class TrackingStoreCheck:
    """Before kedro-mlflow connects: a server answers within seconds, an sqlite store exists.

    MLflow would retry a dead server for minutes; two first runs would both
    create an sqlite store (an Alembic error): here it is created once, under
    a lock.
    """

    @hook_impl(tryfirst=True)
    def after_context_created(self, context: Any) -> None:
        uri = tracking_uri(context)
        if uri:
            check_tracking_server(uri)
            create_sqlite_store(uri)


class RunChecks:
    """Before the first node (and before kedro-mlflow opens a run), in this order:

    1. a ``<pipeline>_<game>`` name runs in its game's environment;
    2. the parameter blocks the pipeline reads are valid.
    """

    @hook_impl(tryfirst=True)
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Any, catalog: Any
    ) -> None:
        parameters = catalog.load("parameters")
        check_game_alias(run_params, parameters["game"])
        check_parameters(pipeline, parameters)
