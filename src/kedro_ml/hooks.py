"""Project hooks."""

from __future__ import annotations

import hashlib
import logging
import re
import subprocess
from pathlib import Path
from typing import Any

import mlflow
from kedro.framework.hooks import hook_impl

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


def raw_fingerprint(paths: list[Path]) -> str:
    """One SHA-256 over the bytes of the raw files, in the given order."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        with path.open("rb") as f:
            digest.update(hashlib.file_digest(f, "sha256").digest())
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
        mlflow.set_tags(tags)
