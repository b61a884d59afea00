"""The drift report on generated games, with the generator's drift injection on and off."""

from __future__ import annotations

import copy

import pandas as pd
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

# What the generator shifts from the batch window on: prices, play earnings, the sub type mix
DRIFT = {
    "price_multiplier": 1.5,
    "play_earnings_multiplier": 0.5,
    "sub_type_mix": {"hard": 0.1, "soft": 0.7, "balanced": 0.2},
}


def _monitor(base_params: dict, drift: bool) -> dict:
    """The drift report of a game of the committed sample's size and economy.

    The drift starts three months before the batch window: a subscription's
    features see only months before it starts, so lower earnings show in
    balances only once they have been earned.
    """
    generator = copy.deepcopy(load_parameters("synthesize")["synthesize"])
    batch_start = pd.Timestamp(base_params["batch_predict"]["window"]["date_start"])
    generator["drift"] = {
        **generator["drift"],
        **DRIFT,
        "enabled": drift,
        "from_month": str((batch_start - pd.DateOffset(months=3)).date()),
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
    drifted = set(report["drifted_features"])
    # prices were raised, and the type mix moved towards soft subscriptions...
    assert {"price", "price_per_unit", "profit", "sub_type"} <= drifted
    # ...and play earnings halved: balances and what play adds to them fall
    assert {"soft_balance_last", "soft_balance_net_1m"} <= drifted
    assert report["retrain_recommended"]
    assert isinstance(out["drift_plot"], Figure)
    assert out["drift_mlflow_metrics"]["retrain_recommended"]["value"] == 1.0
    entry = report["features"]["price"]
    assert entry["drifted"] and entry["psi"] > entry["psi_threshold"]


@pytest.mark.slow
def test_without_drift_nothing_is_flagged(base_params):
    report = _monitor(base_params, drift=False)["drift_report"]
    assert report["drifted_features"] == [] and not report["prediction"]["drifted"]
    assert (
        report["rule"]["psi_threshold"] == 0.2 and report["rule"]["ks_threshold"] == 0.1
    )
    assert max(entry["psi"] for entry in report["features"].values()) <= 0.2
    assert not report["retrain_recommended"]
    assert len(report["features"]) > 50  # every model input is checked
