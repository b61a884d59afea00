"""The drift report on generated games, with the generator's drift injection on and off."""

from __future__ import annotations

import copy

import pytest
from matplotlib.figure import Figure

from kedro_ml.core.model import ModelVersion
from kedro_ml.core.synthetic import generate_raw_tables
from kedro_ml.pipelines import (
    sub_churn_batch_predict,
    sub_churn_monitor,
    sub_churn_standard_features,
    sub_churn_train,
)
from tests.conftest import load_parameters, raw_datasets, run_in_memory


def _monitor(base_params: dict, drift: bool) -> dict:
    generator = copy.deepcopy(load_parameters("synthesize")["synthesize"])
    generator["n_characters"] = 3000
    generator["drift"] = {
        **generator["drift"],
        "enabled": drift,
        "from_month": base_params["batch_predict"]["window"]["date_start"],
    }
    store = run_in_memory(
        sub_churn_standard_features.create_pipeline(),
        raw_datasets(generate_raw_tables(generator)),
        base_params,
    )
    trained = run_in_memory(sub_churn_train.create_pipeline(), store, base_params)
    batch = run_in_memory(
        sub_churn_batch_predict.create_pipeline(),
        {
            **store,
            "sub_churn_model": trained["sub_churn_model"],
            "champion_model@pyfunc": ModelVersion(
                trained["sub_churn_model"], source="test champion"
            ),
        },
        base_params,
    )
    datasets = {
        "sub_churn_model": trained["sub_churn_model"],
        "train_features": trained["train_features"],
        "batch_predict_features": batch["batch_predict_features"],
    }
    return run_in_memory(sub_churn_monitor.create_pipeline(), datasets, base_params)


@pytest.mark.slow
def test_injected_drift_is_flagged_and_retraining_recommended(base_params):
    out = _monitor(base_params, drift=True)
    report = out["drift_report"]
    assert {"price", "profit"} <= set(
        report["drifted_features"]
    )  # prices were raised by the generator
    assert report["retrain_recommended"]
    assert isinstance(out["drift_plot"], Figure)
    assert out["drift_mlflow_metrics"]["retrain_recommended"]["value"] == 1.0
    entry = report["features"]["price"]
    assert entry["drifted"] and entry["psi"] > entry["psi_threshold"]


@pytest.mark.slow
def test_without_drift_nothing_is_flagged(base_params):
    report = _monitor(base_params, drift=False)["drift_report"]
    assert report["drifted_features"] == [] and not report["prediction"]["drifted"]
    assert not report["retrain_recommended"]
    assert len(report["features"]) > 50  # every model input is checked
