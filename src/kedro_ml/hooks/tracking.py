"""kedro-mlflow's hook, with the project's fixes: the one module that overrides its internals.

Each method of ``kedro_mlflow.framework.hooks.MlflowHook`` overridden or used
here that is not its public hook interface (``_log_param``,
``_is_mlflow_enabled``, ``_already_active_mlflow``, ``mlflow_config``) has a
test in ``tests/hooks/test_tracking.py`` that fails when kedro-mlflow changes it.
"""

from __future__ import annotations

import logging
import os
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

from kedro_ml.framework.lineage import fail_orphaned_runs, owner_tags
from kedro_ml.framework.store import mark_model_training
from kedro_ml.runtime import not_in_ipython

logger = logging.getLogger(__name__)

# kedro-mlflow's metric datasets, which its hook renames after their catalog entry
_METRIC_DATASETS = frozenset(
    {"MlflowMetricDataset", "MlflowMetricHistoryDataset", "MlflowMetricsHistoryDataset"}
)


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
        with owner_tags(), not_in_ipython():
            super().before_pipeline_run(run_params, pipeline, catalog)
        if (
            self.run_id is not None
        ):  # MLflow's UI shows the experiment as model training
            mark_model_training(self.mlflow_config.tracking.experiment.name)

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
        except Exception as failure:  # noqa: BLE001 - the run's own error is the one to tell
            # a tracking server that went away cannot mark the run FAILED: the
            # next run's orphan sweep (fail_orphaned_runs) does
            logger.warning(
                "The MLflow run could not be marked FAILED (%s); the next run marks it",
                str(failure).splitlines()[0][:200],
            )
        finally:
            self.run_id = None
