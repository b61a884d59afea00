"""Checks that stop a run before its first node, with a message saying what to do."""

from __future__ import annotations

import os
import re
import urllib.error
import urllib.request
from typing import Any

from kedro.framework.hooks import hook_impl

from kedro_ml.core.params import validate_parameters

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
    """Raise ``TrackingServerError`` quickly when an http(s) tracking URI does not answer."""
    if not uri.startswith(("http://", "https://")):
        return
    try:
        with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=timeout):
            return
    except urllib.error.HTTPError:
        return  # it answers, even if without a /health route
    except (urllib.error.URLError, OSError) as exc:
        raise TrackingServerError(
            f"The MLflow tracking server at {uri} does not answer ({getattr(exc, 'reason', exc)}). "
            "Start it, or unset MLFLOW_TRACKING_URI to track in the local mlflow.db."
        ) from exc


class TrackingServerCheck:
    """Fails a run within seconds when its tracking server is down (MLflow would retry for minutes)."""

    @hook_impl(tryfirst=True)  # before kedro-mlflow connects
    def after_context_created(self, context: Any) -> None:
        uri = os.environ.get("MLFLOW_TRACKING_URI")
        if uri is None:
            try:
                uri = (context.config_loader["mlflow"].get("server") or {}).get(
                    "mlflow_tracking_uri"
                )
            except Exception:  # noqa: BLE001 - no mlflow.yml: kedro-mlflow's defaults apply
                uri = None
        if uri:
            check_tracking_server(str(uri))


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
