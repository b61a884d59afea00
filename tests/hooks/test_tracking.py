"""The kedro-mlflow hook as the project runs it: a node's parameters in one batch,
metric datasets found from their configuration, no IPython import to start a run."""

from __future__ import annotations

import mlflow
import pytest
from kedro.pipeline import Node

from kedro_ml.hooks.tracking import MlflowTracking, _MetricDatasets


@pytest.fixture
def hook():
    tracking = MlflowTracking()
    # the state kedro-mlflow's before_pipeline_run leaves for a tracked run
    tracking.run_id = None  # no run to reopen in this test
    tracking._is_mlflow_enabled = True
    tracking.flatten, tracking.recursive, tracking.sep = True, True, "."
    tracking.long_params_strategy = "truncate"
    return tracking


def _node():
    return Node(
        lambda *a: None, ["data", "params:model", "params:seed"], None, name="n"
    )


def test_a_nodes_parameters_are_logged_in_one_batch(hook, monkeypatch):
    batches, singles = [], []
    monkeypatch.setattr(mlflow, "log_params", batches.append)
    monkeypatch.setattr(mlflow, "log_param", lambda *a: singles.append(a))
    inputs = {
        "data": object(),
        "params:model": {"estimator": "logistic_regression", "kwargs": {"C": 0.5}},
        "params:seed": 42,
    }
    hook.before_node_run(_node(), None, inputs, False)
    assert batches == [
        {"model.estimator": "logistic_regression", "model.kwargs.C": 0.5, "seed": 42}
    ]
    assert singles == []


def test_a_value_too_long_for_a_parameter_follows_kedro_mlflows_strategy(
    hook, monkeypatch
):
    batches, singles = [], []
    monkeypatch.setattr(mlflow, "log_params", batches.append)
    monkeypatch.setattr(mlflow, "log_param", lambda *a: singles.append(a))
    long = "x" * 10_000
    inputs = {"data": 1, "params:model": {"note": long}, "params:seed": 1}
    hook.before_node_run(_node(), None, inputs, False)
    assert batches == [{"seed": 1}]
    [(name, value)] = singles
    assert name == "model.note" and long.startswith(value) and len(value) < len(long)


class _Catalog:
    """A catalog whose datasets' modules must not be imported to learn their types."""

    def __init__(self) -> None:
        self.config_resolver = type(
            "R",
            (),
            {
                "config": {
                    "metrics": {
                        "type": "kedro_mlflow.io.metrics.MlflowMetricsHistoryDataset"
                    },
                    "model": {"type": "some.module.that.does.not.exist.ModelDataset"},
                }
            },
        )()
        self.got: list[str] = []

    def keys(self):
        return ["metrics", "model"]

    def get_type(self, name):
        raise AssertionError(f"{name}'s module was imported to learn its type")

    def get(self, name):
        self.got.append(name)
        return name


def test_metric_datasets_are_found_without_importing_other_datasets():
    catalog = _Catalog()
    assert _MetricDatasets(catalog).items() == [("metrics", "metrics")]
    assert catalog.got == ["metrics"]


# --- what MlflowTracking relies on in kedro-mlflow's internals: each test fails
# when kedro-mlflow changes the piece the project overrides or reads


def _source(name: str) -> str:
    import inspect

    from kedro_mlflow.framework.hooks import MlflowHook

    return inspect.getsource(getattr(MlflowHook, name))


def test_upstream_logs_each_parameter_through_log_param():
    """``_log_param`` is overridden to batch a node's parameters."""
    import inspect

    from kedro_mlflow.framework.hooks import MlflowHook

    assert list(inspect.signature(MlflowHook._log_param).parameters) == [
        "self",
        "name",
        "value",
    ]
    assert "self._log_param(" in _source("before_node_run")


def test_upstream_keeps_whether_tracking_is_on_in_is_mlflow_enabled():
    """``_close`` reads ``_is_mlflow_enabled``, set by upstream's ``before_pipeline_run``."""
    assert "self._is_mlflow_enabled =" in _source("before_pipeline_run")
    assert "if self._is_mlflow_enabled" in _source("before_node_run")


def test_upstream_notes_a_run_active_before_the_session_in_already_active_mlflow():
    """``_close`` leaves alone a run that was active before the session (a notebook's)."""
    assert "self._already_active_mlflow = True" in _source("after_context_created")


def test_upstream_finds_metric_datasets_through_items_and_item_assignment():
    """``_MetricDatasets`` offers upstream's ``after_catalog_created`` only these two."""
    source = _source("after_catalog_created")
    assert "catalog.items()" in source and "catalog[name] =" in source
    used = {
        word
        for word in ("catalog.get(", "catalog.keys(", "catalog.load(", "catalog.save(")
        if word in source
    }
    assert used == set()


def test_upstream_config_names_the_pipelines_tracking_is_disabled_for():
    """``_is_enabled`` reads ``mlflow_config.tracking.disable_tracking.pipelines``."""
    from kedro_mlflow.config.kedro_mlflow_config import KedroMlflowConfig

    config = KedroMlflowConfig(
        tracking={"disable_tracking": {"pipelines": ["sub_churn_synthesize"]}}
    )
    assert config.tracking.disable_tracking.pipelines == ["sub_churn_synthesize"]
