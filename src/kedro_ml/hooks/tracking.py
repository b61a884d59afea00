"""MLflow tracking: kedro-mlflow's hook kept to one session, and the tags of every run."""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
import logging
import os
import socket
import subprocess
from collections.abc import Iterator
from typing import Any

# Before MLflow is imported. Its usage telemetry is off for every run, as
# Kedro's is (MLflow reads DO_NOT_TRACK only when it is "true", not "1").
# Its check for a Databricks serverless-GPU job to resume imports IPython on
# every run start where IPython is installed (0.3-0.4 s); a Databricks job
# that wants it sets the variable to true.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("MLFLOW_ENABLE_SGC_RUN_RESUMPTION_FOR_DATABRICKS_JOBS", "false")

import mlflow  # noqa: E402 - after the environment defaults above
from kedro.framework.hooks import hook_impl
from kedro_mlflow.framework.hooks import MlflowHook
from mlflow.utils.validation import MAX_PARAM_VAL_LENGTH

from kedro_ml.runtime import not_in_ipython

logger = logging.getLogger(__name__)

# kedro-mlflow's metric datasets, which its hook renames after their catalog entry
_METRIC_DATASETS = frozenset(
    {"MlflowMetricDataset", "MlflowMetricHistoryDataset", "MlflowMetricsHistoryDataset"}
)

HOST_TAG = "kedro_ml.host"
PID_TAG = "kedro_ml.pid"
MLFLOW_RUN_CONTEXT = "MLFLOW_RUN_CONTEXT"

# The run that triggered the one about to start (a project command sets it).
_triggered_by: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "kedro_ml_triggered_by", default=None
)


@contextlib.contextmanager
def triggered_by(run_id: str) -> Iterator[None]:
    """Tag the runs started inside the block as children of the MLflow run ``run_id``."""
    token = _triggered_by.set(run_id)
    try:
        yield
    finally:
        _triggered_by.reset(token)


class _MetricDatasets:
    """The metric datasets of a catalog, without instantiating any other dataset.

    A dataset's type is read from its configuration where it has one: asking
    the catalog for the type imports the dataset's module (the model datasets
    import scikit-learn, the figure datasets matplotlib: ~1 s of every run).
    """

    def __init__(self, catalog: Any) -> None:
        self._catalog = catalog

    def _type_name(self, name: str) -> str:
        config = self._catalog.config_resolver.config.get(name)
        if isinstance(config, dict) and isinstance(config.get("type"), str):
            return config["type"]
        return str(self._catalog.get_type(name))

    def items(self) -> list[tuple[str, Any]]:
        names = [
            name
            for name in self._catalog.keys()
            if self._type_name(name).rsplit(".", 1)[-1] in _METRIC_DATASETS
        ]
        return [(name, self._catalog.get(name)) for name in names]

    def __setitem__(self, name: str, dataset: Any) -> None:
        self._catalog[name] = dataset


class MlflowTracking(MlflowHook):
    """kedro-mlflow's hook (``kedro_mlflow.framework.hooks.MlflowHook``), with three fixes.

    kedro-mlflow 2.0.3 registers one hook object per process, which keeps the
    last run's id across sessions: a later session with tracking disabled
    reopened that run, and a run left active by one session captured the
    next one's logging. Here every session starts without a run id and ends
    with its run closed. And its catalog hook instantiated every dataset of the
    catalog to find the metric datasets (about a second, and every dataset
    module imported, on every run); here it looks at dataset types first.

    ``settings.DISABLE_HOOKS_FOR_PLUGINS`` turns the plugin's own registration
    off, so this is the one kedro-mlflow hook of a session.

    And a node's parameters are logged in one batch (one store transaction)
    instead of one ``log_param`` each.
    """

    _batch: dict[str, Any] | None = None

    @hook_impl
    def before_node_run(
        self, node: Any, catalog: Any, inputs: dict[str, Any], is_async: bool
    ) -> None:
        self._batch = {}
        try:
            super().before_node_run(node, catalog, inputs, is_async)
            batch = self._batch
        finally:
            self._batch = None
        if batch:
            mlflow.log_params(batch)

    def _log_param(self, name: str, value: Any) -> None:
        if self._batch is not None and len(str(value)) <= MAX_PARAM_VAL_LENGTH:
            self._batch[name] = value
            return None
        return super()._log_param(name, value)  # too long: kedro-mlflow's strategy

    @hook_impl
    def after_catalog_created(
        self,
        catalog: Any,
        conf_catalog: dict[str, Any],
        conf_creds: dict[str, Any],
        parameters: dict[str, Any],
        save_version: str,
        load_versions: dict[str, str],
    ) -> None:
        super().after_catalog_created(
            _MetricDatasets(catalog),
            conf_catalog,
            conf_creds,
            parameters,
            save_version,
            load_versions,
        )

    @hook_impl
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Any, catalog: Any
    ) -> None:
        self.run_id = None  # nothing of an earlier session's run
        if self._is_enabled(run_params):
            fail_orphaned_runs()
        # the owner tags are on the run from its creation, so a kill cannot lose them
        with _owner_tags(), not_in_ipython():
            super().before_pipeline_run(run_params, pipeline, catalog)

    def _is_enabled(self, run_params: dict[str, Any]) -> bool:
        disabled = self.mlflow_config.tracking.disable_tracking.pipelines or []
        names = run_params.get("pipeline_names") or ["__default__"]
        return not mlflow.active_run() and not any(n in disabled for n in names)

    def _close(self) -> None:
        if self._is_mlflow_enabled and not self._already_active_mlflow:
            # kedro-mlflow reopens the run before each node; leave none behind
            while (run := mlflow.active_run()) and run.info.run_id == self.run_id:
                mlflow.end_run()
        self.run_id = None

    @hook_impl
    def after_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Any, catalog: Any
    ) -> None:
        try:
            super().after_pipeline_run(run_params, pipeline, catalog)
        finally:
            self._close()

    @hook_impl
    def on_pipeline_error(
        self, error: Exception, run_params: dict[str, Any], pipeline: Any, catalog: Any
    ) -> None:
        try:
            super().on_pipeline_error(error, run_params, pipeline, catalog)
        finally:
            self.run_id = None


@contextlib.contextmanager
def _owner_tags() -> Iterator[None]:
    """Runs started in the block carry this host and process from their creation.

    MLflow adds the tags of ``MLFLOW_RUN_CONTEXT`` (JSON) to every run it creates.
    """
    before = os.environ.get(MLFLOW_RUN_CONTEXT)
    tags = json.loads(before) if before else {}
    tags.update({HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())})
    os.environ[MLFLOW_RUN_CONTEXT] = json.dumps(tags)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(MLFLOW_RUN_CONTEXT, None)
        else:
            os.environ[MLFLOW_RUN_CONTEXT] = before


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def fail_orphaned_runs() -> list[str]:
    """Mark FAILED the runs left RUNNING by runs of this host that were killed.

    A run records its host and process id (``RunTags``); a run still RUNNING
    whose process on this host is gone was killed mid-way, and would otherwise
    stay RUNNING forever. Returns the run ids it closed.
    """
    host = socket.gethostname()
    closed = []
    for run in mlflow.search_runs(
        filter_string=f"attributes.status = 'RUNNING' and tags.`{HOST_TAG}` = '{host}'",
        output_format="list",
    ):
        pid = int(run.data.tags.get(PID_TAG, "0") or 0)
        if pid and pid != os.getpid() and not _alive(pid):
            mlflow.MlflowClient().set_terminated(run.info.run_id, "FAILED")
            mlflow.MlflowClient().set_tag(
                run.info.run_id, "kedro_ml.closed", f"process {pid} ended mid-run"
            )
            closed.append(run.info.run_id)
    if closed:
        logger.warning(
            "Marked %d run(s) FAILED whose process ended mid-run: %s",
            len(closed),
            ", ".join(closed),
        )
    return closed


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


def raw_fingerprint(pipeline: Any, catalog: Any) -> str:
    """One SHA-256 over the digests of the pipeline's raw inputs, in name order.

    A raw input is a free input on the ``raw`` layer whose dataset can
    fingerprint its file (``kedro_ml.datasets.arrow_csv.ArrowCSVDataset``).
    """
    digest = hashlib.sha256()
    found = False
    for name in sorted(pipeline.inputs()):
        if name.startswith("params:") or name == "parameters" or name not in catalog:
            continue
        dataset = catalog.get(name)
        layer = ((getattr(dataset, "metadata", None) or {}).get("kedro-viz") or {}).get(
            "layer"
        )
        fingerprint = getattr(dataset, "fingerprint", None)
        if layer != "raw" or not callable(fingerprint):
            continue
        value = fingerprint()
        if value is not None:
            digest.update(name.encode())
            digest.update(bytes.fromhex(value))
            found = True
    return digest.hexdigest() if found else "none"


def run_name(pipeline_names: list[str] | None, game: str) -> str:
    """A run name that says what ran and for which game."""
    names = pipeline_names or ["__default__"]
    label = "+".join("lifecycle" if n == "__default__" else n for n in names)
    return f"{label} · {game}"


class RunTags:
    """Names and tags every tracked run: game, environment, pipeline, commit, raw data.

    Runs that a project command starts for another run (``triggered_by``)
    are tagged with it and shown as that run's children in the MLflow UI.
    """

    @hook_impl(trylast=True)  # after kedro-mlflow has opened the run
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
        }
        commit = _git_commit(run_params.get("project_path"))
        if commit:
            tags["git_commit"] = commit
        trigger = _triggered_by.get()
        if trigger:
            tags["triggered_by"] = trigger
            tags["mlflow.parentRunId"] = trigger
        mlflow.set_tags(tags)
