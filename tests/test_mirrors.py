"""Every module of ``src/kedro_ml`` has a mirrored test module, or a stated reason."""

from __future__ import annotations

from tests.conftest import PROJECT_ROOT

SRC = PROJECT_ROOT / "src" / "kedro_ml"
TESTS = PROJECT_ROOT / "tests"

# Modules tested elsewhere, and where.
ELSEWHERE = {
    "__init__.py": "nothing to test: the package's version",
    "__main__.py": "tests/e2e/test_wheel.py runs `python -m kedro_ml` from the wheel",
    "cli.py": "tests/test_settings.py (entry points), tests/e2e/test_replay.py, test_retraining.py, test_operate.py, test_experiment.py, serving/test_app.py",
    "pipeline_registry.py": "tests/test_pipeline_registry.py",
    "settings.py": "tests/test_settings.py, tests/hooks/test_order.py",
    "runtime.py": "tests/test_runtime.py",
    "core/__init__.py": "nothing to test",
    "core/persistence.py": "tests/datasets/test_versioned.py and serving tests load and save through it",
    "core/metrics.py": "tests/core/test_reporting.py and the pipeline tests read the metric datasets",
    "core/stages.py": "tests/pipelines/sub_churn_standard_features/test_nodes.py, window and Spark equality tests",
    "core/batch.py": "tests/pipelines/sub_churn_batch_predict/test_pipeline.py, tests/spark/test_equality.py",
    "datasets/__init__.py": "nothing to test",
    "datasets/online_store.py": "tests/serving/test_store.py, tests/pipelines/sub_churn_refresh_online_store",
    "datasets/spark_tables.py": "tests/spark/test_buckets.py (a Spark table written whole), tests/spark/test_equality.py",
    "datasets/promotions.py": "tests/datasets/test_mlflow_models.py (offline champion, record)",
    "datasets/mlflow_run.py": "tests/e2e/test_mlflow.py (tags and parameters of tracked runs)",
    "framework/__init__.py": "nothing to test",
    "framework/catalog.py": "tests/hooks/test_summary.py, tests/hooks/test_checks.py",
    "framework/lineage.py": "tests/datasets/test_mlflow_models.py (orphaned runs), tests/e2e/test_mlflow.py (tags)",
    "hooks/__init__.py": "nothing to test",
    "hooks/runs.py": "tests/framework/test_locks.py, tests/e2e/test_concurrency.py",
    "hooks/tags.py": "tests/e2e/test_mlflow.py",
    "hooks/errors.py": "tests/test_errors.py, tests/e2e/test_reliability.py (a failing node named in the message)",
    "hooks/writes.py": "tests/datasets/test_write_behind.py",
    "orchestration/__init__.py": "nothing to test",
    "orchestration/experiments.py": "tests/e2e/test_experiment.py",
    "orchestration/replay.py": "tests/e2e/test_replay.py",
    "orchestration/retraining.py": "tests/e2e/test_retraining.py",
    "orchestration/workfolder.py": "tests/e2e/test_replay.py",
    "pipelines/__init__.py": "nothing to test",
    "serving/__init__.py": "nothing to test",
    "serving/model.py": "tests/serving/test_app.py, tests/e2e/test_standalone_serving.py",
    "serving/model_code.py": "tests/e2e/test_standalone_serving.py loads it as MLflow does",
    "serving/packaging.py": "tests/datasets/test_mlflow_models.py, tests/e2e/test_standalone_serving.py",
    "serving/integrity.py": "tests/datasets/test_mlflow_models.py (swapped file, appended code, no digests, standalone check)",
    "spark/__init__.py": "tests/test_pipeline_registry.py (every twin, same parameters)",
    "spark/nodes.py": "tests/spark/test_equality.py, tests/spark/test_errors.py",
}


def _mirror(relative: str) -> list[str]:
    path = relative.removesuffix(".py").split("/")
    folder, name = path[:-1], path[-1]
    if folder and folder[0] == "pipelines":  # a pipeline's folder holds its tests
        return [
            f"tests/{'/'.join(folder)}/test_{kind}.py" for kind in ("nodes", "pipeline")
        ]
    return [f"tests/{'/'.join([*folder, f'test_{name}.py'])}"]


def test_every_module_has_a_test_module_or_a_reason():
    unmirrored = []
    for module in sorted(SRC.rglob("*.py")):
        relative = module.relative_to(SRC).as_posix()
        if relative in ELSEWHERE:
            continue
        if not any((PROJECT_ROOT / mirror).exists() for mirror in _mirror(relative)):
            unmirrored.append(relative)
    assert unmirrored == []


def test_every_reason_names_a_module_that_exists():
    assert {name for name in ELSEWHERE if not (SRC / name).exists()} == set()
