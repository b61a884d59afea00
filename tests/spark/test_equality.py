"""The Spark path (``--env=spark_env``) gives the pandas path's tables and predictions.

One module, one JVM: a temporary copy of the project runs the pandas lifecycle
(which trains and promotes a champion), then the Spark feature store and batch
prediction, then the whole lifecycle on Spark; every table is compared row by
row (``tests.spark.tables.assert_same_table``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import _copy_project, run_kedro
from tests.spark.conftest import require_spark
from tests.spark.tables import assert_same_table, latest_version, read_table

pytestmark = [pytest.mark.spark, pytest.mark.slow]

# the feature store: (file under the data root, the rows' key)
FEATURE_STORE = {
    "02_intermediate/characters.parquet": ["char_id"],
    "02_intermediate/sub_miss.parquet": ["sub_id", "start_date"],
    "02_intermediate/currency_monthly.parquet": ["char_id", "date"],
    "03_primary/subscription_features.parquet": ["sub_id"],
    "03_primary/sub_churn_labels.parquet": ["sub_id"],
    "03_primary/sub_churn_primary.parquet": ["sub_id"],
}


def _project(tmp_path_factory, name: str):
    require_spark()
    project = _copy_project(tmp_path_factory.mktemp(name) / "project")
    patch = pytest.MonkeyPatch()
    patch.chdir(project)
    patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{project / 'mlflow.db'}")
    return project, patch


def _both_paths(tmp_path_factory, name: str, synthesize: dict | None = None):
    """A project copy after the pandas lifecycle and the Spark feature store and batch."""
    project, patch = _project(tmp_path_factory, name)
    try:
        if synthesize:
            run_kedro(
                project, "sub_churn_synthesize", params={"synthesize": synthesize}
            )
        run_kedro(project, "__default__")  # trains and promotes the champion
        run_kedro(project, "sub_churn_standard_features", env="spark_env")
        run_kedro(project, "sub_churn_batch_predict", env="spark_env")
        yield project
    finally:
        patch.undo()


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The committed sample, both paths."""
    yield from _both_paths(tmp_path_factory, "sample")


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A generated game of 20,000 characters, both paths."""
    yield from _both_paths(
        tmp_path_factory, "generated", {"n_characters": 20000, "seed": 11}
    )


def _compare_feature_store(data: Path) -> None:
    for relative, key in FEATURE_STORE.items():
        try:
            assert_same_table(
                read_table(data / relative), read_table(data / "spark" / relative), key
            )
        except AssertionError as error:
            raise AssertionError(f"{relative}: {error}") from error


def _compare_batch(data: Path) -> None:
    assert_same_table(
        read_table(data / "04_feature/batch_predict_features.parquet"),
        read_table(data / "spark/04_feature/batch_predict_features.parquet"),
        ["sub_id"],
    )
    pandas_batch = read_table(
        latest_version(data / "07_model_output/batch_predictions.parquet")
    )
    spark_batch = read_table(
        latest_version(data / "spark/07_model_output/batch_predictions.parquet")
    )
    assert len(pandas_batch) > 0
    assert_same_table(pandas_batch, spark_batch, ["sub_id"])
    # Spark writes the batch in sub_id order too
    assert spark_batch["sub_id"].is_monotonic_increasing


def test_sample_feature_store_equal(sample: Path) -> None:
    _compare_feature_store(sample / "data")


def test_sample_batch_predictions_equal(sample: Path) -> None:
    _compare_batch(sample / "data")


def test_generated_feature_store_equal(generated: Path) -> None:
    assert (
        len(read_table(generated / "data/02_intermediate/characters.parquet")) > 15000
    )
    _compare_feature_store(generated / "data")


def test_generated_batch_predictions_equal(generated: Path) -> None:
    _compare_batch(generated / "data")


def test_lifecycle_on_spark_trains_the_same_model(sample: Path) -> None:
    """Training and scoring read Spark's window tables as pandas: same model, same scores."""
    data = sample / "data"
    pandas_metrics = pd.read_json(
        data / "08_reporting/score_metrics.json", typ="series"
    )
    (data / "08_reporting/score_metrics.json").unlink()
    run_kedro(sample, "__default__", env="spark_env")
    spark_metrics = pd.read_json(data / "08_reporting/score_metrics.json", typ="series")
    assert spark_metrics["model_id"] == pandas_metrics["model_id"]
    for name in ("roc_auc", "pr_auc", "n_scored"):
        assert spark_metrics[name] == pytest.approx(pandas_metrics[name], rel=1e-9)
    assert_same_table(
        read_table(data / "04_feature/train_features.parquet"),
        read_table(data / "spark/04_feature/train_features.parquet"),
        ["sub_id"],
    )


def test_spark_session_is_local_and_utc(sample: Path) -> None:
    from pyspark.sql import SparkSession

    session = SparkSession.getActiveSession()
    assert session is not None
    assert session.conf.get("spark.sql.session.timeZone") == "UTC"
    assert session.sparkContext.master.startswith("local")
    assert os.environ["PYSPARK_PYTHON"]


def test_an_empty_window_is_named_on_spark(sample: Path) -> None:
    """A window that selects nothing stops the Spark run as it stops the pandas one."""
    window = {"date_start": "2000-01-01", "date_end": "2000-02-01"}
    with pytest.raises(
        ValueError, match=r"batch_predict\.window 2000-01-01\.\.2000-02-01 selects no"
    ):
        run_kedro(
            sample,
            "sub_churn_batch_predict",
            env="spark_env",
            params={"batch_predict": {"window": window}},
        )
