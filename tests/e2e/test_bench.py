"""A tiny-scale run of the benchmark harness, so `make bench` cannot rot."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import PROJECT_ROOT
from tests.spark.conftest import spark_missing

pytestmark = pytest.mark.slow


def test_bench_harness_measures_every_stage(tmp_path):
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [
            sys.executable,
            str(PROJECT_ROOT / "benchmarks" / "bench.py"),
            "--scales",
            "300,600",
            "--spark-scales",
            "300,600",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert "features / floor" in result.stdout and "takes" in result.stdout
    results = json.loads(out.read_text())
    assert set(results["scales"]) == {"300", "600"}
    for scale in results["scales"].values():
        for stage in (
            "generate",
            "sub_churn_standard_features",
            "sub_churn_train_from_raw",
            "sub_churn_batch_predict",
        ):
            figures = scale[stage]
            assert (
                figures["wall_s"] > 0
                and figures["cpu_s"] > 0
                and figures["peak_rss_mb"] > 50
            )
            assert (
                figures["rows"] > 0
                and figures["rows_per_s"] > 0
                and figures["overhead_s"] > 0
            )
        assert scale["floor_s"] >= 0 and scale["feature_to_floor"] > 0
        # the floor is the median of three, measured between the stages
        assert len(scale["floors_s"]) == 3
        assert scale["floor_s"] == sorted(scale["floors_s"])[1]
    # the smallest scale serves the champion: online and feature-row latencies
    serving = results["scales"]["300"]["serving"]
    for name in ("online_1_row", "online_1000_row", "mlflow_feature_rows_1_row"):
        assert 0 < serving[name]["p50_ms"] <= serving[name]["p99_ms"]
    assert isinstance(serving["within_targets"], bool)
    assert "online_1_row" in result.stdout and "latency targets" in result.stdout
    assert "serving" not in results["scales"]["600"]
    # the lifecycle on the committed sample, as `make run` runs it
    assert (
        results["lifecycle"]["wall_s"] > 0
        and "lifecycle on the committed sample" in result.stdout
    )
    # the feature run on the sample against the stack floor (a bare Kedro +
    # kedro-mlflow project's whole run, built in the same run), medians of 3
    fixed = results["fixed_cost"]
    assert len(fixed["runs"]) == 3 and 0 < fixed["overhead_s"] < fixed["wall_s"]
    assert len(fixed["stack_floor_runs"]) == 3 and fixed["stack_floor_s"] > 0
    assert fixed["to_stack_floor"] == round(fixed["wall_s"] / fixed["stack_floor_s"], 2)
    assert "stack floor" in result.stdout
    # every target in one table, with where and when it was measured; only goals
    names = [row["target"] for row in results["targets"]]
    assert "fixed cost of kedro run on the sample" in names
    assert any(name.startswith("sample feature run / stack floor") for name in names)
    assert not any("/ floor at" in name or "start floor" in name for name in names)
    assert all(isinstance(row["met"], bool) for row in results["targets"])
    assert "against the targets" in result.stdout
    assert results["date"] and results["commit"] and results["machine"]["cpus"] > 0
    # the floors under the runs' memory setting (Linux: huge pages off for both)
    if sys.platform.startswith("linux"):
        assert results["machine"]["transparent_huge_pages"] == "off"
        printed = " ".join(result.stdout.split())  # however the console wrapped it
        assert "transparent huge pages off (runs and floors alike)" in printed
    # twelve months of the committed sample replayed
    replay = results["replay"]
    assert replay["months"] == 12 and replay["wall_s"] > 0
    assert 0 < replay["month_median_s"] < replay["wall_s"]
    assert "replay of 12 months" in result.stdout
    # the five candidates of kedro experiment against the slowest one alone
    trial = results["experiment"]
    assert trial["candidates"] == 5 and trial["slowest"] in trial["fit_and_predict_s"]
    assert trial["to_slowest_alone"] == round(
        trial["wall_s"] / trial["slowest_alone_wall_s"], 2
    )
    assert any(name.startswith("kedro experiment (5 candidates)") for name in names)
    # the Spark path at both scales (where it is set up: always in CI)
    if spark_missing():
        assert "Spark stages skipped" in result.stdout
        return
    for n in ("300", "600"):
        for stage in ("sub_churn_standard_features", "sub_churn_batch_predict"):
            figures = results["scales"][n]["spark"][stage]
            assert figures["wall_s"] > figures["overhead_s"] > 0
            assert figures["to_pandas"] > 0 and figures["rows"] > 0
    costs = results["spark_costs"]["sub_churn_standard_features"]
    assert set(costs) == {"fixed_s", "start_s", "us_per_row"}
    assert "Spark path (--env=spark_env, local)" in result.stdout
