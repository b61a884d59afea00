"""Continuous training, replayed: the monthly step over a game's history.

For each month ``m`` (``kedro replay --from ... --to ...``), at the close of
``m``, with the raw rows an export taken then holds (every row dated in ``m``
or before; ``kedro_ml.core.replay.raw_as_of``), the month is operated as
``kedro operate`` and Airflow operate it (``kedro_ml.orchestration.operation``):
predict and monitor the month's batch, score earlier batches whose labels
settled, retrain when the drift report recommends it, refresh the online
store, add the month to the monitoring history.

It runs in a work folder of its own (``workfolder``); the parent MLflow run
holds the timeline (``timeline``; also ``<data_root>/08_reporting/replay/``),
each month is a child run, its stages are children of the month's run, and
the Kedro runs of a stage are children of the stage's run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from kedro_ml.core.replay import (
    RAW_TABLES,
    ReplayError,
    check_months,
    month_line,
    months,
    nan_to_none,
    new_timeline,
    raw_as_of,
)
from kedro_ml.orchestration.operation import STAGES, Operation, check_operable
from kedro_ml.orchestration.timeline import (
    log_metrics,
    tracked_run,
    write_timeline,
)
from kedro_ml.orchestration.workfolder import WorkFolder

__all__ = ["ReplayError", "replay"]

logger = logging.getLogger(__name__)

COMMAND = "replay"
MONTH_METRICS = ("batch_size", "share_drifted", "retrain_recommended")
MONTH_METRICS += ("retrained", "promoted")
# what a replayed month's timeline entry leaves out of the month's state
INTERNAL = ("stages", "month_run", "champion", "bootstrap", "feature_psi")


class _Replay:
    """A replay's months, operated one after the other in its work folder."""

    def __init__(self, project_path: Path, env: str | None, first: str, last: str):
        self.env, self.months = env, months(first, last)
        bootstrap_project(project_path)
        with KedroSession.create(project_path=project_path, env=env) as session:
            context = session.load_context()  # sets up tracking (kedro-mlflow)
            self.params, self.outputs = context.params, context.catalog
            # the generator's truth file goes along (reports read it; empty when absent)
            self.tables = {
                n: self.outputs.load(n) for n in (*RAW_TABLES, "sub_churn_truth")
            }
            conf_source = Path(context.config_loader.conf_source)
            globals_ = dict(context.config_loader["globals"])
        check_operable(self.params)
        self.game, self.rules = self.params["game"], self.params["replay"]
        self.warnings = check_months(
            self.months,
            self.tables["sub_data"]["sub_start_date"],
            self.tables["character_currency"]["date"],
            max(int(w) for w in self.params["features"]["windows_months"]),
            self.rules,
            self.game,
        )
        for warning in self.warnings:
            logger.warning("Replay: %s", warning)
        root = project_path / globals_["data_root"]  # an absolute root stays itself
        self.work = WorkFolder(
            project_path, env, root, conf_source, globals_, self.params
        )
        self.initial_champion: dict[str, Any] | None = None
        self.experiment: str | None = None

    def batches(self) -> dict[str, dict]:
        """The batches' scores so far (the work folder's ``batch_scores``)."""
        catalog = self.work.catalog()
        return catalog.load("batch_scores") if catalog.exists("batch_scores") else {}

    def month(self, parent: str, month: pd.Timestamp, step: int) -> dict:
        """One month of the loop, as a child run of ``parent``: the timeline's entry."""
        started, key = time.perf_counter(), f"{month:%Y-%m-%d}"
        tags = {"pipeline": COMMAND, "replay.month": key}
        name = f"replay {key}"
        with tracked_run(self.experiment, name, tags, parent=parent) as run:
            snapshot = raw_as_of(self.tables, month)
            self.work.write_raw(snapshot)
            entry: dict[str, Any] = {
                "month": key,
                "mlflow_run_id": run,
                # what the export at the close of the month held
                "snapshot_rows": {name: len(snapshot[name]) for name in RAW_TABLES},
            }
            try:
                operation = Operation(self.work, month, self.experiment)
                for stage in STAGES:
                    state = operation.run(stage, month_run=run)
                    if stage == "predict" and state.get("bootstrap"):
                        self.initial_champion = {
                            **state["champion"],
                            "promoted_in": key,
                        }
                entry.update({k: v for k, v in state.items() if k not in INTERNAL})
            finally:
                if "batch_size" in entry:
                    log_metrics(
                        run, {f"replay.{k}": entry.get(k) for k in MONTH_METRICS}, step
                    )
        entry["seconds"] = round(time.perf_counter() - started, 1)
        return entry


def replay(
    project_path: Path,
    first: str,
    last: str,
    env: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Replay the months ``first`` .. ``last`` and return the timeline (also written and logged)."""
    say = progress or logger.info
    state = _Replay(Path(project_path), env, first, last)
    # the generator's drift month, where the data are the generator's (its truth file)
    drift = (state.params.get("synthesize") or {}).get("drift") or {}
    drift_from = (
        str(drift["from_month"])
        if drift.get("enabled") and not state.tables["sub_churn_truth"].empty
        else None
    )
    timeline = new_timeline(
        state.game,
        env or "local",
        state.months,
        state.rules,
        state.params["monitoring"]["drift_share_threshold"],
        drift_from,
        state.warnings,
    )
    name = f"replay · {state.game} · {state.months[0]:%Y-%m}..{state.months[-1]:%Y-%m}"
    tags = {"pipeline": COMMAND, "game": state.game, "kedro_env": env or "local"}
    params = {
        "replay.from": timeline["from"],
        "replay.to": timeline["to"],
        **{f"replay.{k}": v for k, v in state.rules.items()},
    }
    started = time.perf_counter()
    try:
        state.experiment = experiment = state.work.fresh_experiment()
        with tracked_run(experiment, name, tags, params) as parent:
            timeline["mlflow_run_id"] = parent
            try:
                for step, month in enumerate(state.months, start=1):
                    entry = state.month(parent, month, step)
                    timeline["months"].append(entry)
                    timeline["batches"] = state.batches()
                    say(month_line(entry, step, len(state.months)))
                timeline["status"] = "FINISHED"
            finally:
                timeline.setdefault("status", "FAILED")
                timeline["initial_champion"] = state.initial_champion
                timeline["seconds"] = round(time.perf_counter() - started, 1)
                timeline = nan_to_none(timeline)
                write_timeline(state.outputs, parent, timeline)
    finally:
        state.work.release()
    return timeline
