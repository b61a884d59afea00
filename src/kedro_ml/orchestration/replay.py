"""Continuous training, replayed: the whole loop month by month over a game's history.

For each month ``m`` (``kedro replay --from ... --to ...``), with only the raw
rows dated before ``m`` (``kedro_ml.core.replay.raw_as_of``):

1. the standard features, as of ``m``; the champion's predictions for the
   subscriptions starting in ``m``; the drift of that batch against the
   champion's own training window (one Kedro run);
2. every earlier batch with labels newly settled by ``m - 1`` is scored
   (the batch scoring node, on its settled rows; the rest are counted);
3. when the drift report recommends it: train, score and promote on the
   month's windows (a second Kedro run); the promotion rule decides.

The replay works in ``<data_root>/replay/work`` with a copy of the game's
configuration whose ``game`` is ``<game>_replay``: its registered model,
experiment and files are its own, and the game's champion never moves. The
parent MLflow run holds the timeline; each month is a child run, and the
Kedro runs of a month are its children. ``timeline.json`` and
``timeline.png`` are written to ``<data_root>/08_reporting/replay/``.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from kedro.framework.project import pipelines, settings
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.io import DataCatalog
from kedro.io.core import Version

from kedro_ml.core.params import validate_parameters
from kedro_ml.core.replay import (
    RAW_TABLES,
    add_months,
    month_windows,
    months,
    nan_to_none,
    raw_as_of,
    settled_rows,
    timeline_figure,
)
from kedro_ml.datasets.mlflow_models import read_promotions
from kedro_ml.datasets.versioned import SkopsModelDataset
from kedro_ml.hooks.locks import LOCK_NAME, FileLock, lock_timeout
from kedro_ml.hooks.tracking import triggered_by
from kedro_ml.pipelines.sub_churn_batch_score.nodes import score_batch

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


class ReplayError(RuntimeError):
    """A replay that cannot start or go on, with what to do next."""


def _month_nodes() -> list[str]:
    """The month's nodes: features, batch prediction, drift, and the training window's features."""
    names = [
        node.name
        for name in (
            "sub_churn_standard_features",
            "sub_churn_batch_predict",
            "sub_churn_monitor",
        )
        for node in pipelines[name].nodes
    ]
    names += [
        n.name for n in pipelines["sub_churn_train"].nodes if n.namespace == "train"
    ]
    return names


def _work_conf(conf_source: Path, run_env: str, work: Path, globals_: dict) -> Path:
    """A copy of the game's configuration (base and its environment) with the replay's globals."""
    conf = work / "conf"
    shutil.copytree(conf_source / "base", conf / "base")
    if (conf_source / run_env).is_dir():
        shutil.copytree(conf_source / run_env, conf / run_env)
    (conf / run_env).mkdir(parents=True, exist_ok=True)
    for name in ("logging.yml",):
        if (conf_source / name).exists():
            shutil.copy(conf_source / name, conf / name)
    (conf / run_env / "globals.yml").write_text(yaml.safe_dump(globals_))
    return conf


class _Replay:
    """The state a replay carries from month to month."""

    def __init__(self, project_path: Path, env: str | None, first: str, last: str):
        self.project_path = project_path
        self.env = env
        self.months = months(first, last)
        bootstrap_project(project_path)
        with KedroSession.create(project_path=project_path, env=env) as session:
            context = session.load_context()  # sets up tracking (kedro-mlflow)
            self.params = context.params
            catalog = context.catalog
            # the generator's truth file goes along (reports read it; empty when absent)
            self.tables = {
                name: catalog.load(name) for name in (*RAW_TABLES, "sub_churn_truth")
            }
            self.outputs = catalog
            conf_source = Path(context.config_loader.conf_source)
            globals_ = dict(context.config_loader["globals"])
        validate_parameters(self.params, ["replay", "monitoring", "score"])
        self.game = self.params["game"]
        self.rules = self.params["replay"]
        self.warnings = self.check_months()
        root = Path(globals_["data_root"])
        root = root if root.is_absolute() else project_path / root
        self.lock = FileLock(root / "replay" / LOCK_NAME)
        self.lock.acquire("kedro replay", lock_timeout())
        self.work = root / "replay" / "work"
        shutil.rmtree(self.work, ignore_errors=True)
        (self.work / "01_raw").mkdir(parents=True)
        self.replay_game = f"{self.game}_replay"
        self.run_env = env or "local"
        self.conf = _work_conf(
            conf_source,
            self.run_env,
            self.work,
            {**globals_, "data_root": str(self.work), "game": self.replay_game},
        )
        self.registered = f"sub_churn_{self.replay_game}"
        loader = settings.CONFIG_LOADER_CLASS(
            conf_source=str(self.conf), env=self.run_env, **settings.CONFIG_LOADER_ARGS
        )
        self.catalog_config = loader["catalog"]
        self.champion: dict[str, Any] | None = None
        self.batches: dict[str, pd.DataFrame] = {}
        self.scores: dict[str, dict] = {}

    def check_months(self) -> list[str]:
        """Refuse months the data cannot replay; warn where the first model sees little history."""
        subs = self.tables["sub_data"]["sub_start_date"]
        currency = self.tables["character_currency"]["date"]
        if subs.empty or currency.empty:
            raise ReplayError(
                "kedro replay: the raw tables hold no subscriptions or no currency rows; "
                "write the game's raw data first (kedro run -p sub_churn_synthesize)"
            )
        first_data, last_sub = currency.min(), subs.max()
        span = (
            f"the data of {self.game} has currency from {first_data:%Y-%m} and "
            f"subscriptions starting up to {last_sub:%Y-%m}"
        )
        if self.months[-1] > last_sub:
            raise ReplayError(
                f"kedro replay: --to {self.months[-1]:%Y-%m-%d} has no subscriptions to "
                f"predict: {span}. Replay months up to {last_sub:%Y-%m-%d}."
            )
        if self.months[0] <= first_data:
            raise ReplayError(
                f"kedro replay: --from {self.months[0]:%Y-%m-%d} leaves nothing to learn "
                f"from: {span}. Start the replay later."
            )
        history = max(int(w) for w in self.params["features"]["windows_months"])
        first_train = month_windows(self.months[0], self.rules)["train"]["window"]
        enough = add_months(first_data, history)
        start = pd.Timestamp(first_train["date_start"])
        if start < enough:
            # the start that moves the first training window onto enough history
            short = (enough.to_period("M") - start.to_period("M")).n
            warning = (
                f"the first model trains on {first_train['date_start'][:7]}.."
                f"{first_train['date_end'][:7]}, before {history} months of currency "
                f"history exist ({span}): its currency features are partly missing and "
                "drift against it may be spurious; start at "
                f"{add_months(self.months[0], short):%Y-%m-%d} or later, or shorten "
                "replay.train_months"
            )
            logger.warning("Replay: %s", warning)
            return [warning]
        return []

    # --- Kedro runs -----------------------------------------------------------
    def session(self, runtime_params: dict | None = None) -> KedroSession:
        return KedroSession.create(
            project_path=self.project_path,
            env=self.run_env,
            conf_source=str(self.conf),
            runtime_params=runtime_params or {},
        )

    def run(self, parent: str, runtime_params: dict, pipeline_names, **kwargs) -> None:
        with triggered_by(parent), self.session(runtime_params) as session:
            session.run(pipeline_names=list(pipeline_names), **kwargs)

    def catalog(self) -> DataCatalog:
        """A fresh catalog of the work folder (files as the last run left them)."""
        return DataCatalog.from_config(self.catalog_config)

    # --- MLflow -----------------------------------------------------------------
    def start_tracking(self) -> tuple[Any, str]:
        from mlflow import MlflowClient

        client = MlflowClient()
        if client.search_registered_models(filter_string=f"name = '{self.registered}'"):
            logger.info(
                "Replay: removing %s, the registered model of an earlier replay",
                self.registered,
            )
            client.delete_registered_model(self.registered)
        with self.session() as session:
            # kedro-mlflow creates the replay's experiment, named by mlflow.yml
            mlflow_config = session.load_context().mlflow
        experiment = client.get_experiment_by_name(
            mlflow_config.tracking.experiment.name
        )
        parent = client.create_run(
            experiment.experiment_id,
            run_name=f"replay · {self.game} · {self.months[0]:%Y-%m}..{self.months[-1]:%Y-%m}",
            tags={
                "pipeline": COMMAND,
                "game": self.game,
                "kedro_env": self.env or "local",
            },
        )
        from mlflow.entities import Param

        rules = {
            "replay.from": f"{self.months[0]:%Y-%m-%d}",
            "replay.to": f"{self.months[-1]:%Y-%m-%d}",
            **{f"replay.{k}": v for k, v in self.rules.items()},
        }
        client.log_batch(
            parent.info.run_id, params=[Param(k, str(v)) for k, v in rules.items()]
        )
        return client, parent.info.run_id

    # --- the loop -----------------------------------------------------------------
    def write_raw(self, month: pd.Timestamp) -> None:
        """The month's snapshot, saved by the work folder's own raw datasets."""
        catalog = self.catalog()
        for name, frame in raw_as_of(self.tables, month).items():
            catalog.save(name, frame)

    def champion_from_record(self, train_window: dict, month: pd.Timestamp) -> dict:
        latest = self.promotions()[-1]
        models = SkopsModelDataset(
            filepath=str(self.work / "06_models" / "sub_churn_model.skops"),
            version=Version(None, None),
        )
        local = [v for v, m in models.model_ids().items() if m == latest["model_id"]]
        return {
            "model_id": latest["model_id"],
            "version": str(latest["version"]),
            "local_version": local[0],
            "train_window": train_window,
            "promoted_in": f"{month:%Y-%m-%d}",
        }

    def promotions(self) -> list[dict]:
        return read_promotions(self.work / "06_models" / "promotions.json")

    def retrain(self, parent: str, month: pd.Timestamp, pipeline_names) -> dict:
        """Train, score and promote on the month's windows; the decision, and whether it promoted."""
        windows = month_windows(month, self.rules)
        before = len(self.promotions())
        self.run(parent, windows, pipeline_names)
        decision = dict(self.catalog().load("promotion_decision"))
        # the registry may decide again (another champion): its record is what happened
        decision["promoted"] = len(self.promotions()) > before
        if decision["promoted"]:
            self.champion = self.champion_from_record(windows["train"]["window"], month)
        return decision

    def score_batches(self, catalog: DataCatalog, month: str) -> dict[str, dict]:
        """Every earlier batch with labels newly settled: its metrics over them."""
        labels = catalog.load("sub_churn_labels")
        features = catalog.load("subscription_features")
        truth = catalog.load("sub_churn_truth")
        threshold = self.params["score"]["threshold"]
        scored = {}
        for batch_month, predictions in self.batches.items():
            n_settled = settled_rows(predictions, labels)
            previous = self.scores.get(batch_month, {}).get("n_scored", 0)
            if n_settled == 0 or n_settled <= previous:
                continue
            metrics, _ = score_batch(
                predictions, labels, features, truth, threshold, self.replay_game
            )
            metrics["scored_in"] = month
            self.scores[batch_month] = metrics
            scored[batch_month] = metrics
        return scored


def _month_metrics(entry: dict) -> dict[str, float]:
    keys = (
        "batch_size",
        "share_drifted",
        "retrain_recommended",
        "retrained",
        "promoted",
    )
    return {
        f"replay.{key}": float(entry[key]) for key in keys if entry.get(key) is not None
    }


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
    try:
        client, parent = state.start_tracking()
    except BaseException:
        state.lock.release()
        raise
    timeline: dict[str, Any] = {
        "game": state.game,
        "env": env or "local",
        "from": f"{state.months[0]:%Y-%m-%d}",
        "to": f"{state.months[-1]:%Y-%m-%d}",
        "rules": dict(state.rules),
        "drift_share_threshold": state.params["monitoring"]["drift_share_threshold"],
        "drift_from": None,
        "mlflow_run_id": parent,
        "warnings": state.warnings,
        "initial_champion": None,
        "months": [],
        "batches": {},
    }
    # the generator's drift month, where the data are the generator's (its truth file)
    drift = (state.params.get("synthesize") or {}).get("drift") or {}
    if drift.get("enabled") and not state.tables["sub_churn_truth"].empty:
        timeline["drift_from"] = str(drift["from_month"])
    status, started = "FAILED", time.perf_counter()
    try:
        timeline["status"] = "RUNNING"
        for i, month in enumerate(state.months, start=1):
            entry = _replay_month(state, client, parent, month, i, timeline)
            timeline["months"].append(entry)
            timeline["batches"] = {k: dict(v) for k, v in state.scores.items()}
            say(
                f"[{i}/{len(state.months)}] {month:%Y-%m}: batch of {entry['batch_size']}, "
                f"{entry['share_drifted']:.0%} of features drifted, retraining "
                + (
                    ("done, promoted" if entry["promoted"] else "done, not promoted")
                    if entry["retrained"]
                    else (
                        "recommended" if entry["retrain_recommended"] else "not needed"
                    )
                )
                + f", {len(entry['scored_batches'])} batch(es) scored"
            )
        status = "FINISHED"
    finally:
        timeline["status"] = status
        timeline["seconds"] = round(time.perf_counter() - started, 1)
        timeline = nan_to_none(timeline)
        try:
            _write_timeline(state, client, parent, timeline, status)
        finally:
            state.lock.release()
    return timeline


def _replay_month(
    state: _Replay,
    client: Any,
    parent: str,
    month: pd.Timestamp,
    index: int,
    timeline: dict,
) -> dict[str, Any]:
    started = time.perf_counter()
    key = f"{month:%Y-%m-%d}"
    run = client.create_run(
        client.get_run(parent).info.experiment_id,
        run_name=f"replay {key}",
        tags={"mlflow.parentRunId": parent, "pipeline": COMMAND, "replay.month": key},
    )
    month_run = run.info.run_id
    state.write_raw(month)
    entry: dict[str, Any] = {"month": key, "mlflow_run_id": month_run}
    status = "FAILED"
    try:
        if state.champion is None:
            # the first champion, trained as of the first month
            decision = state.retrain(month_run, month, BOOTSTRAP_PIPELINES)
            if state.champion is None:
                raise ReplayError(
                    f"the first model of the replay was not promoted ({decision.get('reason')})"
                )
            timeline["initial_champion"] = dict(state.champion)
        champion = state.champion
        windows = month_windows(month, state.rules)
        month_params = {**windows, "train": {"window": champion["train_window"]}}
        state.run(
            month_run,
            month_params,
            MONTH_PIPELINES,
            node_names=_month_nodes(),
            load_versions={"sub_churn_model": champion["local_version"]},
        )
        catalog = state.catalog()
        predictions = catalog.load("batch_predictions")
        state.batches[key] = predictions
        report = catalog.load("drift_report")
        scored = state.score_batches(catalog, key)
        entry.update(
            champion_version=champion["version"],
            champion_model_id=champion["model_id"],
            champion_train_window=champion["train_window"],
            batch_size=len(predictions),
            share_drifted=report["share_drifted"],
            drifted_features=report["drifted_features"],
            prediction_psi=report["prediction"]["psi"],
            retrain_recommended=report["retrain_recommended"],
            reasons=report["reasons"],
            scored_batches={
                k: {
                    "roc_auc": v["roc_auc"],
                    "ece": v["ece"],
                    "oracle_roc_auc": v.get("oracle_roc_auc"),
                    "n_scored": v["n_scored"],
                    "n_unsettled_excluded": v["n_unsettled_excluded"],
                }
                for k, v in scored.items()
            },
            retrained=False,
            promoted=False,
        )
        if report["retrain_recommended"]:
            decision = state.retrain(month_run, month, RETRAIN_PIPELINES)
            entry.update(
                retrained=True,
                promoted=decision["promoted"],
                promotion_reason=decision.get("reason"),
                candidate_train_window=windows["train"]["window"],
                candidate_score_window=windows["score"]["window"],
                candidate_roc_auc=decision.get("candidate_roc_auc"),
            )
        entry["champion_version_after"] = state.champion["version"]
        entry["seconds"] = round(time.perf_counter() - started, 1)
        status = "FINISHED"
    finally:
        if "batch_size" in entry:
            client.log_batch(
                month_run,
                metrics=[
                    _metric(k, v, index) for k, v in _month_metrics(entry).items()
                ],
            )
        client.set_terminated(month_run, status)
    return entry


def _metric(key: str, value: float, step: int):
    from mlflow.entities import Metric

    return Metric(key, value, int(time.time() * 1000), step)


def _write_timeline(
    state: _Replay, client: Any, parent: str, timeline: dict, status: str
) -> None:
    """timeline.json and timeline.png in the game's reporting folder, and on the parent run."""
    timeline["outputs"] = {
        kind: str(state.outputs.get(name)._describe()["filepath"])
        for kind, name in (("json", "replay_timeline"), ("png", "replay_timeline_plot"))
    }
    state.outputs.save("replay_timeline", timeline)
    client.log_dict(parent, timeline, "replay/timeline.json")
    if timeline["months"]:
        figure = timeline_figure(timeline)
        state.outputs.save("replay_timeline_plot", figure)
        client.log_figure(parent, figure, "replay/timeline.png")
    for i, entry in enumerate(timeline["months"], start=1):
        batch = timeline["batches"].get(entry["month"]) or {}
        metrics = {
            "share_drifted": entry.get("share_drifted"),
            "batch_roc_auc": batch.get("roc_auc"),
            "batch_oracle_roc_auc": batch.get("oracle_roc_auc"),
            "batch_ece": batch.get("ece"),
        }
        client.log_batch(
            parent,
            metrics=[
                _metric(f"replay.{k}", v, i)
                for k, v in metrics.items()
                if v is not None
            ],
        )
    client.log_metric(parent, "replay.seconds", float(timeline["seconds"]))
    client.set_terminated(parent, status)
