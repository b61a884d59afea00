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

from kedro_ml.framework.catalog import dataset_filepath, dataset_metadata, shown_path
from kedro_ml.framework.lineage import run_name
from kedro_ml.framework.resolvers import is_tracking_server
from kedro_ml.runtime import runs_are_quiet

logger = logging.getLogger("kedro_ml.run")


def _number(value: Any, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _trained(model: dict, game: str) -> str:
    return (
        f"trained   model {model.get('model_id')} on {model.get('n_scored', 0):,} "
        f"labelled rows (labels as of {model.get('label_as_of')})"
    )


def _scored(score: dict, game: str) -> str:
    left_out = score.get("n_unsettled_excluded", 0) + score.get("n_no_term_excluded", 0)
    return (
        f"scored    ROC-AUC {_number(score.get('roc_auc'))} "
        f"(oracle {_number(score.get('oracle_roc_auc'))}), "
        f"PR-AUC {_number(score.get('pr_auc'))}, "
        f"calibration error {_number(score.get('ece'))} "
        f"on {score.get('n_scored', 0):,} rows ({left_out:,} without a label left out)"
    )


def _promotion(decision: dict, game: str) -> str:
    champion = _champion_version(game)
    verdict = "promoted to champion" if decision.get("promote") else "not promoted"
    return (
        f"promotion {verdict}: {decision.get('reason')}; "
        f"champion is version {champion or 'none'} of sub_churn_{game}"
    )


def _predicted(predictions: Any, game: str) -> str:
    """Batch prediction: how many, when, by which model."""
    import pandas as pd

    frame = pd.DataFrame(predictions)
    if frame.empty:
        return "predicted no subscription in the batch window"
    months = pd.to_datetime(frame["sub_start_date"])
    span = f"{months.min():%Y-%m}" + (
        f"..{months.max():%Y-%m}" if months.max() != months.min() else ""
    )
    models = sorted(set(frame["model_id"].astype(str)))
    sources = sorted(set(frame["model_source"].astype(str)))
    return (
        f"predicted {len(frame):,} subscriptions starting {span} with model "
        f"{', '.join(models)} ({', '.join(sources)})"
    )


def _batch(batch: dict, game: str) -> str:
    model = batch.get("model_id")
    return (
        f"batch     {batch.get('n_predicted', 0):,} predicted"
        + (f" by model {model}" if model else "")
        + "; on the "
        f"{batch.get('n_scored', 0):,} with a known outcome ROC-AUC "
        f"{_number(batch.get('roc_auc'))} (oracle {_number(batch.get('oracle_roc_auc'))}), "
        f"{batch.get('n_unsettled_excluded', 0):,} not settled yet left out"
    )


def _drift(drift: dict, game: str) -> str:
    drifted = drift.get("drifted_features") or []
    verdict = (
        "retraining recommended"
        if drift.get("retrain_recommended")
        else "no retraining needed"
    )
    if not drifted:
        return f"drift     {verdict}: no input drifted"
    return (
        f"drift     {verdict}: {len(drifted)} of {len(drift.get('features') or [])} "
        f"inputs drifted ({', '.join(drifted[:3])}{'...' if len(drifted) > 3 else ''})"
    )


# What a dataset's ``metadata: {kedro_ml: {summary: KIND}}`` puts in the summary,
# in this order; the datasets themselves are named in the catalog only.
_LINES = {
    "predicted": _predicted,
    "trained": _trained,
    "scored": _scored,
    "promotion": _promotion,
    "batch": _batch,
    "drift": _drift,
}


def _load(catalog: Any, name: str) -> Any:
    try:
        return catalog.load(name)
    except Exception:  # noqa: BLE001 - a summary never fails a finished run
        return None


def _written_by_kind(catalog: Any, written: set[str]) -> dict[str, str]:
    kinds: dict[str, str] = {}
    for name in sorted(written):
        kind = dataset_metadata(catalog, name, "summary")
        if kind:
            kinds.setdefault(kind, name)
    return kinds


def summary_lines(catalog: Any, written: set[str], game: str) -> list[str]:
    """The summary of a run that wrote ``written``: one line per stage that ran.

    Which datasets feed which line is said in the catalog (``metadata:
    {kedro_ml: {summary: KIND}}``); the last lines name where the outputs went.
    """
    kinds = _written_by_kind(catalog, written)
    lines = []
    for kind, line in _LINES.items():
        if kind not in kinds:
            continue
        data = _load(catalog, kinds[kind])
        if isinstance(data, dict) or (kind == "predicted" and data is not None):
            try:
                lines.append(line(data, game))
            except Exception:  # noqa: BLE001 - a summary never fails a finished run
                logger.debug("no summary line for %s", kinds[kind], exc_info=True)
    if "online" in kinds:
        lines.append(
            f"online    store written: {shown_path(dataset_filepath(catalog, kinds['online']))}; "
            f"serve it with {_serve_command()}"
        )
    wrote = _folders(catalog, written)
    if wrote:
        lines.append(f"wrote     {', '.join(wrote)}")
    if any(kind in kinds for kind in ("trained", "scored", "batch", "drift")):
        lines.append(f"runs      in MLflow: {_ui_command()}")
    return lines


def _folders(catalog: Any, written: set[str]) -> list[str]:
    """The folders the run wrote files to, each with how many of its outputs."""
    counts: dict[str, int] = {}
    for name in written:
        path = dataset_filepath(catalog, name)
        if path is None:
            continue
        folder = shown_path(path.parent) + "/"
        counts[folder] = counts.get(folder, 0) + 1
    return [
        f"{folder} ({n} output{'s' if n != 1 else ''})"
        for folder, n in sorted(counts.items())
    ]


def _has_makefile() -> bool:
    """Whether the run happens in the project's folder, where ``make`` targets work."""
    return (Path.cwd() / "Makefile").is_file()


def _ui_command() -> str:
    import mlflow

    uri = mlflow.get_tracking_uri()
    if is_tracking_server(uri):
        return uri  # the server is the UI
    if _has_makefile():
        return "make mlflow-ui"
    return f"mlflow ui --backend-store-uri {uri}"


def _serve_command() -> str:
    if _has_makefile():
        return "make serve"
    return "python -m kedro_ml.serving.app --model-uri models:/<model>@champion --online-store <file>"


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

    @hook_impl  # before the tracking store is created or opened (settings.RUN_ORDER)
    def after_context_created(self, context: Any) -> None:
        from kedro.framework.project import LOGGING

        for name, config in (LOGGING.data.get("loggers") or {}).items():
            if "level" in config:
                logging.getLogger(name).setLevel(config["level"])
        if runs_are_quiet():  # a command reports for this run (the replay's months)
            for name in ("kedro", "kedro_ml"):
                logging.getLogger(name).setLevel(logging.WARNING)

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

    @hook_impl
    def after_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Any, catalog: Any
    ) -> None:
        if runs_are_quiet():  # the command that started it reports for it
            return
        try:
            game = catalog.load("params:game")
        except Exception:  # noqa: BLE001 - a summary never fails a finished run
            game = "?"
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
