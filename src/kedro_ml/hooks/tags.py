"""The name and tags of every tracked run: game, environment, pipeline, commit, raw data."""

from __future__ import annotations

from typing import Any

import mlflow
from kedro.framework.hooks import hook_impl

from kedro_ml.framework.lineage import (
    git_commit,
    lineage_tags,
    raw_fingerprint,
    run_name,
)


class RunTags:
    """Names and tags every tracked run (``kedro_ml.framework.lineage``).

    Runs that a project command starts for another run (``triggered_by``)
    are tagged with it and shown as that run's children in the MLflow UI.
    """

    @hook_impl  # after kedro-mlflow has opened the run (settings.RUN_ORDER)
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Any, catalog: Any
    ) -> None:
        if mlflow.active_run() is None:
            return
        game = catalog.load("params:game")
        names = run_params.get("pipeline_names")
        tags = {
            "mlflow.runName": run_name(names, game),
            "game": game,
            "kedro_env": run_params.get("env") or "local",
            "pipeline": "+".join(names or ["__default__"]),
            "raw_fingerprint": raw_fingerprint(pipeline, catalog),
            **lineage_tags(),
        }
        commit = git_commit(run_params.get("project_path"))
        if commit:
            tags["git_commit"] = commit
        mlflow.set_tags(tags)
