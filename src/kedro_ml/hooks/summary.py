"""What a run shows: one line per node as it starts, and a short summary at the end.

``conf/logging.yml`` quiets Kedro's per-dataset and per-node chatter; these
hooks say instead which node of how many is running, and, once the run is
done, what came out of it: headline metrics against the oracle's, the
promotion decision and the champion's version, the batch and its drift
verdict, and where the reports are.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl
from rich.console import Console

logger = logging.getLogger("kedro_ml.run")


def _number(value: Any, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _load(catalog: Any, name: str, written: set[str]) -> Any:
    """A dataset this run wrote, or ``None``."""
    if name not in written:
        return None
    try:
        data = catalog.load(name)
    except Exception:  # noqa: BLE001 - a summary never fails a finished run
        return None
    return data if isinstance(data, dict) else None


def _path(catalog: Any, name: str) -> Path | None:
    path = getattr(catalog.get(name), "_filepath", None) if name in catalog else None
    return Path(str(path)).resolve() if path else None


def _folder(catalog: Any, names: list[str]) -> Path | None:
    for name in names:
        path = _path(catalog, name)
        if path:
            return path.parent
    return None


def summary_lines(catalog: Any, written: set[str], game: str) -> list[str]:
    """The summary of a run that wrote ``written``: one line per stage that ran."""
    lines = []
    model = _load(catalog, "in_sample_metrics", written)
    if model:
        lines.append(
            f"trained   model {model.get('model_id')} on {model.get('n_scored', 0):,} "
            f"labelled rows (labels as of {model.get('label_as_of')})"
        )
    score = _load(catalog, "score_metrics", written)
    if score:
        left_out = score.get("n_unsettled_excluded", 0) + score.get(
            "n_no_term_excluded", 0
        )
        lines.append(
            f"scored    ROC-AUC {_number(score.get('roc_auc'))} "
            f"(oracle {_number(score.get('oracle_roc_auc'))}), "
            f"PR-AUC {_number(score.get('pr_auc'))}, "
            f"calibration error {_number(score.get('ece'))} "
            f"on {score.get('n_scored', 0):,} rows ({left_out:,} without a label left out)"
        )
    decision = _load(catalog, "promotion_decision", written)
    if decision:
        champion = _champion_version(game)
        verdict = "promoted to champion" if decision.get("promote") else "not promoted"
        lines.append(
            f"promotion {verdict}: {decision.get('reason')}; "
            f"champion is version {champion or 'none'} of sub_churn_{game}"
        )
    batch = _load(catalog, "batch_score_metrics", written)
    if batch:
        lines.append(
            f"batch     {batch.get('n_predicted', 0):,} predicted; on the "
            f"{batch.get('n_scored', 0):,} with a known outcome ROC-AUC "
            f"{_number(batch.get('roc_auc'))} (oracle {_number(batch.get('oracle_roc_auc'))}), "
            f"{batch.get('n_unsettled_excluded', 0):,} not settled yet left out"
        )
    drift = _load(catalog, "drift_report", written)
    if drift:
        drifted = drift.get("drifted_features") or []
        verdict = (
            "retraining recommended"
            if drift.get("retrain_recommended")
            else "no retraining needed"
        )
        lines.append(
            f"drift     {verdict}: {len(drifted)} of {len(drift.get('features') or [])} "
            f"inputs drifted ({', '.join(drifted[:3])}{'...' if len(drifted) > 3 else ''})"
            if drifted
            else f"drift     {verdict}: no input drifted"
        )
    if "online_store" in written:
        lines.append(
            f"online    store written: {_path(catalog, 'online_store')}; serve it with `make serve`"
        )
    reports = _folder(
        catalog,
        [
            n
            for n in (
                "score_metrics",
                "batch_score_metrics",
                "drift_report",
                "in_sample_metrics",
            )
            if n in written
        ],
    )
    if reports:
        lines.append(f"reports   {reports}/ (and in MLflow: make mlflow-ui)")
    return lines


def _champion_version(game: str) -> str | None:
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    try:
        return str(
            MlflowClient()
            .get_model_version_by_alias(f"sub_churn_{game}", "champion")
            .version
        )
    except MlflowException:
        return None


class RunProgress:
    """One line as each node starts (its inputs begin to load): ``[5/37] train_model``.

    It also applies the logging configuration's levels again once the context
    exists: MLflow and kedro-mlflow set their own levels when they are
    imported, after Kedro configured logging.
    """

    def __init__(self) -> None:
        self._total = 0
        self._done = 0
        self._started_nodes: set[str] = set()

    @hook_impl(tryfirst=True)  # before the tracking store is created or opened
    def after_context_created(self, context: Any) -> None:
        from kedro.framework.project import LOGGING

        for name, config in (LOGGING.data.get("loggers") or {}).items():
            if "level" in config:
                logging.getLogger(name).setLevel(config["level"])

    @hook_impl
    def before_pipeline_run(self, pipeline: Any) -> None:
        self._total, self._done = len(pipeline.nodes), 0
        self._started_nodes = set()

    def _started(self, node: Any) -> None:
        if node.name not in self._started_nodes:  # once per node, whatever the runner
            self._started_nodes.add(node.name)
            self._done += 1
            logger.info("[%d/%d] %s", self._done, self._total, node.name)

    @hook_impl
    def before_dataset_loaded(self, node: Any) -> None:
        # Kedro loads a node's inputs before it calls before_node_run: a node
        # reading a large file shows while it reads
        self._started(node)

    @hook_impl
    def before_node_run(self, node: Any) -> None:
        self._started(node)  # a node without inputs


class RunSummary:
    """The last lines of every run: what came out of it, and where."""

    def __init__(self) -> None:
        self._start = time.perf_counter()

    @hook_impl
    def before_pipeline_run(self) -> None:
        self._start = time.perf_counter()

    @hook_impl(trylast=True)
    def after_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Any, catalog: Any
    ) -> None:
        try:
            game = catalog.load("params:game")
        except Exception:  # noqa: BLE001 - a summary never fails a finished run
            game = "?"
        from kedro_ml.hooks.tracking import run_name

        elapsed = time.perf_counter() - self._start
        lines = summary_lines(catalog, set(pipeline.all_outputs()), game)
        console = Console(soft_wrap=True)
        console.print(
            f"[bold]Run finished[/bold]: {run_name(run_params.get('pipeline_names'), game)} · "
            f"{len(pipeline.nodes)} node{'s' if len(pipeline.nodes) != 1 else ''} "
            f"in {elapsed:.1f} s",
            highlight=False,
        )
        for line in lines:
            console.print(f"  {line}", highlight=False, markup=False)
