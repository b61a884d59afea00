"""The project's hooks run in the order settings.py states."""

from __future__ import annotations

from kedro.framework.hooks.manager import _create_hook_manager, _register_hooks

from kedro_ml import settings


def _call_order(hook_name: str) -> list[str]:
    manager = _create_hook_manager()
    _register_hooks(manager, settings.HOOKS)
    caller = getattr(manager.hook, hook_name)
    # pluggy calls the implementations from the end of this list
    return [type(impl.plugin).__name__ for impl in reversed(caller.get_hookimpls())]


def test_checks_come_before_the_lock_and_the_lock_before_the_mlflow_run():
    order = [
        name
        for name in _call_order("before_pipeline_run")
        # they only note the start
        if name not in ("RunProgress", "RunSummary", "BackgroundWrites")
    ]
    assert order == ["RunChecks", "RunLock", "MlflowTracking", "RunTags"]


def test_every_hook_acts_in_the_order_settings_lists_it():
    listed = [type(hook).__name__ for hook in settings.RUN_ORDER]
    for hook_name in (
        "after_context_created",
        "before_pipeline_run",
        "before_node_run",
        "after_pipeline_run",
        "on_pipeline_error",
    ):
        called = _call_order(hook_name)
        assert called == [name for name in listed if name in called], hook_name


def test_the_tracking_store_is_checked_before_kedro_mlflow_connects():
    order = _call_order("after_context_created")
    # logging levels first (MLflow's set-up is quiet), then the store, then kedro-mlflow
    assert order.index("RunProgress") < order.index("TrackingStore")
    assert order.index("TrackingStore") < order.index("MlflowTracking")


def test_the_summary_is_the_last_thing_a_run_prints():
    assert _call_order("after_pipeline_run")[-1] == "RunSummary"


def test_kedro_mlflows_own_hook_is_replaced_not_doubled():
    assert "kedro_mlflow" in settings.DISABLE_HOOKS_FOR_PLUGINS
    assert "kedro-telemetry" in settings.DISABLE_HOOKS_FOR_PLUGINS


def test_background_writes_are_waited_for_before_the_run_is_closed():
    # after the last save, inside the runner: before any after_pipeline_run hook
    assert "BackgroundWrites" in _call_order("after_dataset_saved")
    assert "BackgroundWrites" in _call_order("on_pipeline_error")
