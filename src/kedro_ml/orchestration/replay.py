"""Continuous training, replayed: the whole loop month by month over a game's history.

For each month ``m`` (``kedro replay --from ... --to ...``), at the close of
``m``, with the raw rows an export taken then holds (every row dated in ``m``
or before; ``kedro_ml.core.replay.raw_as_of``):

1. the standard features; the champion's predictions for the subscriptions
   that started in ``m`` (features from the months before it); the drift of
   that batch against the champion's own training window (one Kedro run);
2. every earlier batch with labels newly settled by ``m - 1`` is scored
   (``kedro_ml.core.reporting.batch_metrics``, on its settled rows);
3. when the drift report recommends it: train, score and promote on the
   month's windows (a second Kedro run); the promotion rule decides.

It runs in a work folder of its own (``workfolder``); the parent MLflow run
holds the timeline (``timeline``; also ``<data_root>/08_reporting/replay/``),
each month is a child run, and the Kedro runs of a month are its children.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from kedro.framework.project import pipelines
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from kedro_ml.core.params import validate_parameters
from kedro_ml.core.replay import (
    RAW_TABLES,
    ReplayError,
    check_months,
    check_no_extraction_time_features,
    month_entry,
    month_line,
    month_windows,
    months,
    nan_to_none,
    new_timeline,
    raw_as_of,
    score_settled_batches,
)
from kedro_ml.orchestration.timeline import (
    log_metrics,
    tracked_run,
    write_timeline,
)
from kedro_ml.orchestration.workfolder import WorkFolder

logger = logging.getLogger(__name__)

COMMAND = "replay"
MONTH_PIPELINES = (
    "sub_churn_standard_features",
    "sub_churn_batch_predict",
    "sub_churn_train",
    "sub_churn_monitor",
)
RETRAIN_PIPELINES = ("sub_churn_train", "sub_churn_score", "sub_churn_promote")
BOOTSTRAP_PIPELINES = ("sub_churn_standard_features", *RETRAIN_PIPELINES)
MONTH_METRICS = ("batch_size", "share_drifted", "retrain_recommended")
MONTH_METRICS += ("retrained", "promoted")
# what a month's timeline keeps of a promotion decision
PROMOTION_TEST = (
    "roc_auc_difference",
    "difference_low",
    "difference_high",
    "interval_width",
    "power",
    "detectable_gain",
    "effect_of_interest",
    "min_gain",
    "n_rows",
    "effective_rows",
    "window_rows",
    "represented_share",
    "unrepresented_terms",
)


def _month_nodes() -> list[str]:
    """The month's nodes: features, batch prediction, drift, and the training window's features."""
    parts = [pipelines[name] for name in MONTH_PIPELINES if name != "sub_churn_train"]
    nodes = [n for part in parts for n in part.nodes]
    nodes += [n for n in pipelines["sub_churn_train"].nodes if n.namespace == "train"]
    return [node.name for node in nodes]


class _Replay:
    """The state a replay carries from month to month."""

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
        validate_parameters(self.params, ["replay", "monitoring", "score"])
        check_no_extraction_time_features(self.params["model"])
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
        self.work = WorkFolder(project_path, env, root, conf_source, globals_)
        self.champion: dict[str, Any] | None = None
        self.initial_champion: dict[str, Any] | None = None
        self.batches: dict[str, pd.DataFrame] = {}
        self.scores: dict[str, dict] = {}

    def retrain(self, parent: str, month: pd.Timestamp, pipeline_names) -> dict:
        """Train, score and promote on the month's windows; the decision, carried out."""
        windows = month_windows(month, self.rules)
        self.work.run(parent, windows, pipeline_names)
        decision = dict(self.work.catalog().load("promotion_decision"))
        # the registry carries the decision out or stops the run (nothing else moves it here)
        decision["promoted"] = bool(decision["promote"])
        if decision["promoted"]:
            latest = self.work.latest_promotion()
            self.champion = {
                "model_id": latest["model_id"],
                "version": str(latest["version"]),
                "local_version": self.work.local_model_version(latest["model_id"]),
                "train_window": windows["train"]["window"],
                "promoted_in": f"{month:%Y-%m-%d}",
            }
        return decision

    def score_batches(self, month: str) -> dict[str, dict]:
        """Every earlier batch with labels newly settled: its metrics over them."""
        catalog = self.work.catalog()
        names = ("sub_churn_labels", "subscription_features", "sub_churn_truth")
        scored = score_settled_batches(
            self.batches,
            self.scores,
            *(catalog.load(name) for name in names),
            self.params["score"]["threshold"],
        )
        for batch_month, metrics in scored.items():
            self.scores[batch_month] = {**metrics, "scored_in": month}
        return scored

    def month(
        self, parent: str, experiment: str, month: pd.Timestamp, step: int
    ) -> dict:
        """One month of the loop, as a child run of ``parent``: the timeline's entry."""
        started, key = time.perf_counter(), f"{month:%Y-%m-%d}"
        tags = {"pipeline": COMMAND, "replay.month": key}
        with tracked_run(experiment, f"replay {key}", tags, parent=parent) as run:
            snapshot = raw_as_of(self.tables, month)
            self.work.write_raw(snapshot)
            entry: dict[str, Any] = {
                "month": key,
                "mlflow_run_id": run,
                # what the export at the close of the month held
                "snapshot_rows": {name: len(snapshot[name]) for name in RAW_TABLES},
            }
            try:
                self._month(run, month, entry)
            finally:
                if "batch_size" in entry:
                    log_metrics(
                        run, {f"replay.{k}": entry.get(k) for k in MONTH_METRICS}, step
                    )
        entry["seconds"] = round(time.perf_counter() - started, 1)
        return entry

    def _month(self, run: str, month: pd.Timestamp, entry: dict) -> None:
        if self.champion is None:  # the first champion, trained as of the first month
            decision = self.retrain(run, month, BOOTSTRAP_PIPELINES)
            if self.champion is None:
                raise ReplayError(
                    f"the first model of the replay was not promoted ({decision.get('reason')})"
                )
            self.initial_champion = dict(self.champion)
        champion, windows = self.champion, month_windows(month, self.rules)
        self.work.run(
            run,
            {**windows, "train": {"window": champion["train_window"]}},
            MONTH_PIPELINES,
            node_names=_month_nodes(),
            load_versions={"sub_churn_model": champion["local_version"]},
        )
        catalog = self.work.catalog()
        predictions = self.batches[entry["month"]] = catalog.load("batch_predictions")
        report = catalog.load("drift_report")
        scored = self.score_batches(entry["month"])
        entry.update(month_entry(champion, predictions, report, scored))
        if report["retrain_recommended"]:
            decision = self.retrain(run, month, RETRAIN_PIPELINES)
            entry.update(
                retrained=True,
                promoted=decision["promoted"],
                promotion_reason=decision.get("reason"),
                candidate_train_window=windows["train"]["window"],
                candidate_score_window=windows["score"]["window"],
                candidate_roc_auc=decision.get("candidate_roc_auc"),
                # the test behind the decision: what it could see, and on what
                promotion_test={key: decision.get(key) for key in PROMOTION_TEST},
            )
        entry["champion_version_after"] = self.champion["version"]


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
        experiment = state.work.fresh_experiment()
        with tracked_run(experiment, name, tags, params) as parent:
            timeline["mlflow_run_id"] = parent
            try:
                for step, month in enumerate(state.months, start=1):
                    entry = state.month(parent, experiment, month, step)
                    timeline["months"].append(entry)
                    timeline["batches"] = {k: dict(v) for k, v in state.scores.items()}
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
