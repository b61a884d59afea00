"""Project hooks."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import mlflow
from kedro.framework.hooks import hook_impl

from kedro_ml.params import validate_parameters
from kedro_ml.pipelines.sub_churn_retrain_if_drifted.nodes import TRIGGER_ENV

logger = logging.getLogger(__name__)

RAW_DATASETS = ("characters", "sub_data", "sub_miss", "character_currency")

_GAME_ALIAS = re.compile(r"(?P<pipeline>.+)_(?P<game>game\d+)")


class GameMismatchError(RuntimeError):
    """A game's pipeline alias was run in another game's environment."""


class GameAliasHooks:
    """Stops ``<pipeline>_<game>`` aliases run outside that game's environment.

    The original project named game 2's pipelines ``<pipeline>_game2``; here a
    game is a Kedro environment, and the aliases run the same pipelines. The
    check runs first, before any tracking starts or any node runs.
    """

    @hook_impl(tryfirst=True)
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Any, catalog: Any
    ) -> None:
        game = catalog.load("params:game")
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


def _git_commit(project_path: str | None) -> str | None:
    """The commit checked out in ``project_path``, or None outside a git work tree."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=project_path,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


FINGERPRINT_CACHE = ".raw_fingerprints.json"


def _file_digest(path: Path) -> str:
    """SHA-256 of a file, remembered per (size, mtime) in its folder's cache file.

    Hashing a million characters' raw files takes most of a second on every
    run; a file whose size and modification time did not change keeps its
    digest (as ``git status`` does). A folder that cannot be written is simply
    not cached.
    """
    stat = path.stat()
    stamp = [stat.st_size, stat.st_mtime_ns]
    cache_path = path.parent / FINGERPRINT_CACHE
    try:
        cache = json.loads(cache_path.read_text())
    except (OSError, ValueError):
        cache = {}
    entry = cache.get(path.name)
    if isinstance(entry, dict) and entry.get("stamp") == stamp:
        return entry["sha256"]
    with path.open("rb") as f:
        digest = hashlib.file_digest(f, "sha256").hexdigest()
    cache[path.name] = {"stamp": stamp, "sha256": digest}
    try:
        cache_path.write_text(json.dumps(cache, indent=1, sort_keys=True))
    except OSError:
        pass
    return digest


def raw_fingerprint(paths: list[Path]) -> str:
    """One SHA-256 over the contents of the raw files, in the given order."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        digest.update(bytes.fromhex(_file_digest(path)))
    return digest.hexdigest()


class TrackingTagsHooks:
    """Tags every tracked run with its game, environment, pipeline, commit and raw data."""

    @hook_impl(trylast=True)  # after kedro-mlflow has opened the run
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Any, catalog: Any
    ) -> None:
        if mlflow.active_run() is None:
            return
        paths = []
        for name in RAW_DATASETS:
            filepath = (
                getattr(catalog.get(name), "_filepath", None)
                if name in catalog
                else None
            )
            if filepath is not None and Path(str(filepath)).is_file():
                paths.append(Path(str(filepath)))
        tags = {
            "game": catalog.load("params:game"),
            "kedro_env": run_params.get("env") or "local",
            "pipeline": "+".join(run_params.get("pipeline_names") or ["__default__"]),
            "raw_fingerprint": raw_fingerprint(paths) if paths else "none",
        }
        commit = _git_commit(run_params.get("project_path"))
        if commit:
            tags["git_commit"] = commit
        trigger = os.environ.get(TRIGGER_ENV)
        if trigger:  # started by sub_churn_retrain_if_drifted
            tags["triggered_by"] = trigger
        mlflow.set_tags(tags)


class DriftReportMissingError(FileNotFoundError):
    """A pipeline reads the drift report before any batch was monitored."""


class RunContextHooks:
    """Hands a pipeline that reads ``kedro_run`` the context of the current run.

    ``sub_churn_retrain_if_drifted`` starts the retraining as another ``kedro
    run`` in the same environment, configuration and project, and tags it
    with this run's MLflow id. It also fails early, saying what to run, when
    there is no drift report yet.
    """

    @hook_impl(trylast=True)  # after kedro-mlflow has opened the run
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Any, catalog: Any
    ) -> None:
        inputs = pipeline.inputs()
        if "drift_report" in inputs and not catalog.exists("drift_report"):
            raise DriftReportMissingError(
                "There is no drift report yet: run a monitored batch first "
                f"(kedro run -p sub_churn_batch_score{_env_flag(run_params)})."
            )
        if "kedro_run" in inputs:
            active = mlflow.active_run()
            catalog["kedro_run"] = {
                "env": run_params.get("env"),
                "project_path": run_params.get("project_path"),
                "conf_source": run_params.get("conf_source"),
                "mlflow_run_id": active.info.run_id if active else None,
            }


def _env_flag(run_params: dict[str, Any]) -> str:
    env = run_params.get("env")
    return f" --env={env}" if env else ""


class ParameterValidationHooks:
    """Checks the parameter blocks a pipeline reads before any node runs."""

    @hook_impl(tryfirst=True)
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Any, catalog: Any
    ) -> None:
        used = {
            name.split(":", 1)[1].split(".", 1)[0]
            for name in pipeline.inputs()
            if name.startswith("params:")
        }
        validate_parameters(catalog.load("parameters"), used)


class TrackingServerError(RuntimeError):
    """The MLflow tracking server does not answer."""


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


class TrackingServerHooks:
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


class SeedTagHooks:
    """Records the seed a training run used, drawn or given, on its MLflow run."""

    @hook_impl
    def after_node_run(self, node: Any, outputs: dict[str, Any]) -> None:
        model = outputs.get("sub_churn_model")
        if model is not None and mlflow.active_run() is not None:
            mlflow.set_tags({"seed": str(model.seed_), "model_id": model.model_id_})
