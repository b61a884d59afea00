"""One month of operation, in stages: what ``kedro operate``, Airflow and ``kedro replay`` run.

At the close of month ``m``, on the raw data as they are then:

* ``predict``: the standard features; the champion's predictions for the
  subscriptions that started in ``m`` (kept in ``monthly_batches``); their
  drift against the champion's own training window; the share of the batch
  the online store (refreshed at the close of ``m - 1``) did not know. Before
  the first champion, it is trained, scored and promoted on ``m``'s windows.
* ``score``: every earlier batch whose labels newly settled, scored on its
  settled rows (``batch_scores``).
* ``retrain``: train, score and promote on ``m``'s windows when the drift
  report recommends it; the promotion rule decides.
* ``refresh``: the online store, for the champion, as of ``m + 1``.
* ``history``: ``m``'s row of the monitoring history (``monitoring_history``,
  ``index.html``, and the metrics of the game's monitoring MLflow run).

Each stage is an MLflow run (a child of the month's run) and reads what the
stage before it wrote (``operated_months``), never another process's memory:
each can be its own task of a scheduler. A month starts only after the month
before it was operated to its end (or on a game never operated).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping
from numbers import Real
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from kedro.framework.project import pipelines
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.io import DataCatalog
from mlflow import MlflowClient

from kedro_ml.core.monitoring_history import (
    BATCH_COLUMNS,
    history_frame,
    history_page,
    month_step,
)
from kedro_ml.core.params import validate_parameters
from kedro_ml.core.replay import (
    RAW_TABLES,
    add_months,
    check_months,
    check_no_extraction_time_features,
    month_entry,
    month_start,
    month_windows,
    nan_to_none,
    raw_as_of,
    score_settled_batches,
)
from kedro_ml.datasets.mlflow_models import alias_version
from kedro_ml.datasets.promotions import local_version
from kedro_ml.framework.catalog import dataset_filepath
from kedro_ml.framework.lineage import triggered_by
from kedro_ml.orchestration.timeline import experiment_id, log_metrics, tracked_run
from kedro_ml.serving.packaging import MODEL_ID_TAG

logger = logging.getLogger(__name__)

COMMAND = "operate"
STAGES = ("predict", "score", "retrain", "refresh", "history")
MONTH_PIPELINES = (
    "sub_churn_standard_features",
    "sub_churn_batch_predict",
    "sub_churn_train",
    "sub_churn_monitor",
)
RETRAIN_PIPELINES = ("sub_churn_train", "sub_churn_score", "sub_churn_promote")
BOOTSTRAP_PIPELINES = ("sub_churn_standard_features", *RETRAIN_PIPELINES)
REFRESH_PIPELINES = ("sub_churn_refresh_online_store",)
# what a month keeps of a promotion decision
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


class OperationError(ValueError):
    """A month that cannot be operated (out of order, on data it did not know, no champion)."""


def _month_nodes() -> list[str]:
    """The month's nodes: features, batch prediction, drift, and the training window's features."""
    parts = [pipelines[name] for name in MONTH_PIPELINES if name != "sub_churn_train"]
    nodes = [n for part in parts for n in part.nodes]
    nodes += [n for n in pipelines["sub_churn_train"].nodes if n.namespace == "train"]
    return [node.name for node in nodes]


def _day(month: pd.Timestamp) -> str:
    return f"{month:%Y-%m-%d}"


class Space:
    """Where a game is operated: a project (or a replay's work folder) and its configuration.

    ``conf`` None is the project's own ``conf/``; ``run_env`` None is Kedro's
    default environment.
    """

    project_path: Path
    run_env: str | None
    conf: str | Path | None
    params: Mapping[str, Any]
    catalog_config: dict
    game: str

    @property
    def registered_model(self) -> str:
        return f"sub_churn_{self.game}"

    def session(self, runtime_params: dict | None = None) -> KedroSession:
        """A Kedro session of the project on the space's configuration."""
        return KedroSession.create(
            project_path=self.project_path,
            env=self.run_env,
            conf_source=None if self.conf is None else str(self.conf),
            runtime_params=runtime_params or {},
        )

    def run(
        self,
        parent: str,
        runtime_params: dict,
        pipeline_names: Iterable[str],
        **kwargs: Any,
    ) -> None:
        """Run pipelines here, tracked as children of the MLflow run ``parent``."""
        with triggered_by(parent), self.session(runtime_params) as session:
            session.run(pipeline_names=list(pipeline_names), **kwargs)

    def catalog(self) -> DataCatalog:
        """A fresh catalog of the space (files as the last run left them)."""
        return DataCatalog.from_config(self.catalog_config)

    def experiment(self) -> str:
        """The game's MLflow experiment (kedro-mlflow creates it with a session)."""
        with self.session() as session:
            return experiment_id(session.load_context())

    def local_model_version(self, model_id: str) -> str | None:
        """The local model version that holds ``model_id``."""
        path = dataset_filepath(self.catalog(), "sub_churn_model")
        return local_version(path, model_id) if path else None

    def champion(self) -> dict[str, Any] | None:
        """The registry's champion: its version, model id, local version and training window."""
        client = MlflowClient()
        version = alias_version(client, self.registered_model, "champion")
        if version is None:
            return None
        registered = client.get_model_version(self.registered_model, version)
        model_id = registered.tags.get(MODEL_ID_TAG)
        params = client.get_run(registered.run_id).data.params
        keys = ("train.window.date_start", "train.window.date_end")
        if model_id is None or not all(key in params for key in keys):
            raise OperationError(
                f"models:/{self.registered_model}@champion (version {version}) does not "
                f"say which model it holds or which months trained it (tag {MODEL_ID_TAG}, "
                "run parameters train.window.*): promote a model trained by this project "
                "(kedro run -p sub_churn_train_from_raw, then sub_churn_promote)"
            )
        local = self.local_model_version(model_id)
        if local is None:
            raise OperationError(
                f"The champion, {self.registered_model} version {version} (model "
                f"{model_id}), has no local version in "
                f"{dataset_filepath(self.catalog(), 'sub_churn_model')}: the drift "
                "report compares with its training window through it. Operate the game "
                "where its models are trained, or train it here "
                "(kedro run -p sub_churn_train_from_raw)."
            )
        return {
            "model_id": model_id,
            "version": version,
            "local_version": local,
            "train_window": {
                "date_start": params["train.window.date_start"],
                "date_end": params["train.window.date_end"],
            },
        }


class ProjectSpace(Space):
    """The project's own game (``--env``), on its data as they are."""

    def __init__(
        self, project_path: Path, env: str | None = None, conf_source: str | None = None
    ):
        bootstrap_project(project_path)
        self.project_path, self.run_env, self.conf = project_path, env, conf_source
        with self.session() as session:
            context = session.load_context()  # sets up tracking (kedro-mlflow)
            self.params = context.params
            self.catalog_config = dict(context.config_loader["catalog"])
        self.game = self.params["game"]


def check_operable(params: Mapping[str, Any]) -> None:
    """The parameters a month of operation reads, checked before anything runs."""
    validate_parameters(params, ["replay", "monitoring", "score"])
    check_no_extraction_time_features(params["model"])


def check_data_known_at(space: Space, month: pd.Timestamp) -> None:
    """Stop when the raw data hold rows dated after ``month``: they were not known at its close."""
    catalog = space.catalog()
    tables = {name: catalog.load(name) for name in RAW_TABLES}
    later = {
        name: len(tables[name]) - len(cut)
        for name, cut in raw_as_of(tables, month).items()
        if len(tables[name]) != len(cut)
    }
    if later:
        counts = ", ".join(f"{name}: {n}" for name, n in later.items())
        raise OperationError(
            f"The raw data hold rows dated after {month:%Y-%m} ({counts}): operating "
            f"{_day(month)} on them would use what was not known at its close. Operate "
            "the last month of the data, or replay past months (kedro replay --from ... --to ...)."
        )
    warnings = check_months(
        [month],
        tables["sub_data"]["sub_start_date"],
        tables["character_currency"]["date"],
        max(int(w) for w in space.params["features"]["windows_months"]),
        space.params["replay"],
        space.game,
        command="kedro operate",
        flags=("--month", "--month"),
    )
    for warning in warnings:
        logger.warning("Operate: %s", warning)


def _months_done(catalog: DataCatalog) -> dict[str, dict]:
    """The operated months' states, by month (``operated_months``; none yet: empty)."""
    if not catalog.exists("operated_months"):  # no folder, or no file in it
        return {}
    loaded = catalog.load("operated_months")
    return {month: load() for month, load in sorted(loaded.items())}


def _check_order(states: Mapping[str, dict], month: pd.Timestamp) -> None:
    """A month follows the last month operated to its end, or repeats the last one."""
    key = _day(month)
    started = sorted(states)
    if not started:
        return
    last = started[-1]
    if key < last:
        raise OperationError(
            f"{key} comes before {last}, the last month operated: its history is "
            "written. Operate the months after it, or replay past months in a work "
            "folder of their own (kedro replay)."
        )
    if key == last:
        return  # the month again (a retried task): its stages start over
    if "history" not in states[last]["stages"]:
        raise OperationError(
            f"{last} was not operated to its end (stages done: "
            f"{', '.join(states[last]['stages']) or 'none'}): finish it first "
            f"(kedro operate --month {last}); {key} would start on stale data."
        )
    expected = _day(add_months(pd.Timestamp(last), 1))
    if key != expected:
        raise OperationError(
            f"The last month operated is {last}: operate {expected} next ({key} would "
            "leave a month without predictions, scores and drift)."
        )


class Operation:
    """A month of ``space``'s game: its stages, each reading what the one before it wrote."""

    def __init__(self, space: Space, month: Any, experiment: str | None = None):
        self.space, self.month = space, month_start(month)
        self.key = _day(self.month)
        self.rules = space.params["replay"]
        self.windows = month_windows(self.month, self.rules)
        self.experiment = experiment or space.experiment()
        self._stages: dict[str, Callable[[str, dict], None]] = {
            "predict": self._predict,
            "score": self._score,
            "retrain": self._retrain_if_recommended,
            "refresh": self._refresh,
            "history": self._history,
        }

    # ---------------------------------------------------------------- state
    def state(self) -> dict[str, Any]:
        states = _months_done(self.space.catalog())
        if self.key not in states:
            raise OperationError(
                f"{self.key} has not been predicted yet: run its first stage "
                f"(kedro operate --month {self.key} --stage predict)"
            )
        return states[self.key]

    def _save_state(self, state: dict) -> None:
        self.space.catalog().save("operated_months", {self.key: nan_to_none(state)})

    def _require(self, state: dict, stage: str) -> None:
        before = STAGES[STAGES.index(stage) - 1]
        if before not in state["stages"]:
            raise OperationError(
                f"Stage {stage} of {self.key} needs stage {before} first "
                f"(kedro operate --month {self.key} --stage {before})"
            )

    # ---------------------------------------------------------------- runs
    def _stage_run(self, stage: str, month_run: str | None) -> Any:
        tags = {
            "pipeline": COMMAND,
            "game": self.space.game,
            "kedro_ml.month": self.key,
            "kedro_ml.stage": stage,
        }
        return tracked_run(
            self.experiment, f"{COMMAND} {self.key} · {stage}", tags, parent=month_run
        )

    def month_run(self) -> str:
        """A new MLflow run for the month: the parent of its stages' runs."""
        tags = {
            "pipeline": COMMAND,
            "game": self.space.game,
            "kedro_ml.month": self.key,
        }
        with tracked_run(self.experiment, f"{COMMAND} {self.key}", tags) as run:
            return run

    def run(self, stage: str, month_run: str | None = None) -> dict[str, Any]:
        """Run ``stage`` of the month as an MLflow run; the month's state after it.

        ``month_run``: the month's run, owned by the caller (``kedro replay``,
        ``kedro operate`` without ``--stage``). Without it, the first stage
        makes one, later stages find it in the month's state, and each stage
        leaves it FINISHED, or FAILED when the stage failed.
        """
        if stage not in STAGES:
            raise OperationError(
                f"{stage!r} is not a stage of a month: {', '.join(STAGES)}"
            )
        if stage == "predict":
            _check_order(_months_done(self.space.catalog()), self.month)
            state = {"month": self.key, "stages": {}}
            state["month_run"] = month_run or self.month_run()
        else:
            state = self.state()
            self._require(state, stage)
        parent = month_run or state["month_run"]
        status = "FAILED"
        try:
            with self._stage_run(stage, parent) as run:
                self._stages[stage](run, state)
                state["stages"][stage] = run
            self._save_state(state)
            status = "FINISHED"
        finally:
            if month_run is None:
                MlflowClient().set_terminated(parent, status)
        return state

    # ---------------------------------------------------------------- stages
    def _predict(self, run: str, state: dict) -> None:
        champion = self.space.champion()
        if champion is None:  # the first champion, trained as of this month
            decision = self._retrain(run, BOOTSTRAP_PIPELINES)
            state["bootstrap"] = _kept(decision)
            champion = self.space.champion()
            if champion is None:
                raise OperationError(
                    f"The first model of {self.space.game} was not promoted "
                    f"({decision.get('reason')}): there is no champion to predict with"
                )
        unknown = self._unknown_share()
        self.space.run(
            run,
            {**self.windows, "train": {"window": champion["train_window"]}},
            MONTH_PIPELINES,
            node_names=_month_nodes(),
            load_versions={"sub_churn_model": champion["local_version"]},
        )
        catalog = self.space.catalog()
        predictions = catalog.load("batch_predictions")
        report = catalog.load("drift_report")
        catalog.save("monthly_batches", {self.key: predictions})
        state["champion"] = champion
        state.update(month_entry(champion, predictions, report, {}))
        state["unknown_share"] = unknown
        state["feature_psi"] = {
            name: entry["psi"] for name, entry in sorted(report["features"].items())
        }
        log_metrics(
            run,
            {
                "batch_size": len(predictions),
                "share_drifted": report["share_drifted"],
                "prediction_psi": report["prediction"]["psi"],
                "retrain_recommended": float(report["retrain_recommended"]),
                "unknown_share": unknown,
            },
        )

    def _unknown_share(self) -> float | None:
        """The share of the month's batch the online store, as it stands, did not know.

        The store refreshed at the close of the month before answers this
        month's subscriptions online; a character it does not hold gets the
        newcomer's template. None without a store for this month.
        """
        from kedro_ml.serving.store import OnlineStore, StoreError

        catalog = self.space.catalog()
        path = dataset_filepath(catalog, "online_store")
        if path is None or not path.is_file():
            return None
        try:
            store = OnlineStore(path)
            if store.as_of != self.month:
                return None
        except StoreError:
            return None
        subscriptions = catalog.load("sub_data")
        start = pd.to_datetime(subscriptions["sub_start_date"], errors="coerce")
        in_month = start.dt.to_period("M") == self.month.to_period("M")
        char_ids = pd.to_numeric(
            subscriptions.loc[in_month, "char_id"], errors="coerce"
        )
        char_ids = char_ids.dropna().astype("int64").to_numpy()
        if len(char_ids) == 0:
            return None
        _, known, _ = store.templates(char_ids)
        return float(1 - known.mean())

    def _score(self, run: str, state: dict) -> None:
        catalog = self.space.catalog()
        batches = {
            month: load()
            for month, load in catalog.load("monthly_batches").items()
            if month <= self.key
        }
        scores = catalog.load("batch_scores") if catalog.exists("batch_scores") else {}
        names = ("sub_churn_labels", "subscription_features", "sub_churn_truth")
        scored = score_settled_batches(
            batches,
            scores,
            *(catalog.load(name) for name in names),
            self.space.params["score"]["threshold"],
        )
        for batch_month, metrics in scored.items():
            scores[batch_month] = {**metrics, "scored_in": self.key}
        catalog.save("batch_scores", nan_to_none(scores))
        keep = ("roc_auc", "ece", "oracle_roc_auc", "n_scored", "n_unsettled_excluded")
        state["scored_batches"] = {
            month: {field: metrics.get(field) for field in keep}
            for month, metrics in scored.items()
        }
        log_metrics(run, {"batches_scored": len(scored)})

    def _retrain(self, run: str, pipeline_names: Iterable[str]) -> dict:
        """Train, score and promote on the month's windows; the decision, carried out."""
        self.space.run(run, self.windows, pipeline_names)
        decision = dict(self.space.catalog().load("promotion_decision"))
        # the registry carries the decision out or stops the run
        decision["promoted"] = bool(decision["promote"])
        return decision

    def _retrain_if_recommended(self, run: str, state: dict) -> None:
        if not state["retrain_recommended"]:
            logger.info(
                "%s: no retraining (the drift report does not recommend it)", self.key
            )
            log_metrics(run, {"retrained": 0.0, "promoted": 0.0})
            return
        decision = self._retrain(run, RETRAIN_PIPELINES)
        state.update(
            retrained=True,
            promoted=decision["promoted"],
            promotion_reason=decision.get("reason"),
            candidate_train_window=self.windows["train"]["window"],
            candidate_score_window=self.windows["score"]["window"],
            candidate_roc_auc=decision.get("candidate_roc_auc"),
            promotion_test={key: decision.get(key) for key in PROMOTION_TEST},
        )
        log_metrics(run, {"retrained": 1.0, "promoted": float(decision["promoted"])})

    def _refresh(self, run: str, state: dict) -> None:
        champion = self.space.champion()
        state["champion_version_after"] = champion["version"] if champion else None
        state["champion_model_id_after"] = champion["model_id"] if champion else None
        self.space.run(run, {}, REFRESH_PIPELINES)

    def _history(self, run: str, state: dict) -> None:
        catalog = self.space.catalog()
        states = _months_done(catalog)
        states[self.key] = {**state, "stages": {**state["stages"], "history": run}}
        scores = catalog.load("batch_scores") if catalog.exists("batch_scores") else {}
        history = history_frame(list(states.values()), scores)
        catalog.save("monitoring_history", history)
        catalog.save("monitoring_page", history_page(self.space.game, history))
        record = log_history(self.space, catalog, history)
        state["monitoring_run"] = record["run_id"]
        state["monitoring_page"] = str(dataset_filepath(catalog, "monitoring_page"))


def _kept(decision: Mapping[str, Any]) -> dict[str, Any]:
    keep = ("promote", "promoted", "reason", "candidate_roc_auc", *PROMOTION_TEST)
    return {key: decision.get(key) for key in keep if key in decision}


MONITORING_TAG = "kedro_ml.monitoring"


def _monitoring_experiment(client: MlflowClient, space: Space) -> str:
    """The game's monitoring experiment, beside its own (artifacts beside its artifacts)."""
    name = f"{space.registered_model}_monitoring"
    found = client.get_experiment_by_name(name)
    if found is not None:
        if found.lifecycle_stage == "deleted":
            client.restore_experiment(found.experiment_id)
        return found.experiment_id
    game = client.get_experiment_by_name(space.registered_model)
    location = game.artifact_location if game is not None else None
    if location is not None and location.startswith("mlflow-artifacts:"):
        location = None  # the server's artifact store places it
    elif location is not None:
        location = f"{location.rstrip('/')}_monitoring"
    return client.create_experiment(name, artifact_location=location)


def log_history(space: Space, catalog: DataCatalog, history: pd.DataFrame) -> dict:
    """The last month of ``history`` as metrics (step: the month, ``YYYYMM``) of the monitoring run.

    One run per history: it is named in ``monitoring_run`` beside the table,
    so a new history (a replay's work folder) starts a new run. Batch metrics
    are logged at their batch's month, again as more labels settle. The
    table and the page go with the run.
    """
    client = MlflowClient()
    record = catalog.load("monitoring_run") if catalog.exists("monitoring_run") else {}
    run_id = record.get("run_id")
    if run_id is not None:
        try:
            client.get_run(run_id)
        except Exception:  # a store reset under the history: start a new run
            run_id = None
    if run_id is None:
        experiment = _monitoring_experiment(client, space)
        tags = {"pipeline": COMMAND, "game": space.game, MONITORING_TAG: space.game}
        with tracked_run(experiment, f"monitoring · {space.game}", tags) as run_id:
            pass
        record = {"run_id": run_id, "experiment_id": experiment}
        catalog.save("monitoring_run", record)
    last = history.iloc[-1]
    current = {
        key: last[key]
        for key in history.columns
        if key not in BATCH_COLUMNS and key != "month"
    }
    log_metrics(run_id, _numbers(current), step=month_step(last["month"]))
    scored_now = history[history["batch_scored_in"] == last["month"]]
    for _, row in scored_now.iterrows():
        batch = {key: row[key] for key in BATCH_COLUMNS if key != "batch_scored_in"}
        log_metrics(run_id, _numbers(batch), step=month_step(row["month"]))
    for name in ("monitoring_history", "monitoring_page"):
        path = dataset_filepath(catalog, name)
        client.log_artifact(run_id, str(path), "monitoring")
    return record


def _numbers(values: Mapping[str, Any]) -> dict[str, float | None]:
    """The values that are numbers (booleans as 0/1), others left out."""
    numbers: dict[str, float | None] = {}
    for key, value in values.items():
        if isinstance(value, bool | np.bool_):
            numbers[key] = float(value)
        elif isinstance(value, Real) and math.isfinite(float(value)):
            numbers[key] = float(value)
    return numbers


def operate(
    project_path: Path,
    month: Any,
    env: str | None = None,
    conf_source: str | None = None,
    stages: Iterable[str] = STAGES,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Operate ``month`` of the game (``env``) on its data as they are: the stages, in order.

    Returns the month's state. All stages run as children of one new month
    run; a single stage (a scheduler's task) finds the month's run in its state.
    """
    say = progress or logger.info
    stages = list(stages)
    space = ProjectSpace(Path(project_path), env, conf_source)
    check_operable(space.params)
    operation = Operation(space, month)
    if "predict" in stages:
        check_data_known_at(space, operation.month)
    state: dict[str, Any] = {}
    if stages == list(STAGES):
        month_run = operation.month_run()
        status = "FAILED"
        try:
            for stage in stages:
                state = operation.run(stage, month_run)
                say(f"{operation.key}: {stage} done")
            status = "FINISHED"
        finally:
            MlflowClient().set_terminated(month_run, status)
    else:
        for stage in stages:
            state = operation.run(stage)
            say(f"{operation.key}: {stage} done")
    return state
