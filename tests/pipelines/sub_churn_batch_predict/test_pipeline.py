"""``sub_churn_batch_predict`` on an in-memory catalog: no labels, same features."""

from __future__ import annotations

import pandas as pd

from kedro_ml.core.features import feature_table
from kedro_ml.core.model import ModelVersion
from kedro_ml.pipelines import sub_churn_batch_predict
from tests.conftest import run_in_memory


def test_reads_no_labels():
    inputs = sub_churn_batch_predict.create_pipeline().inputs()
    assert not {"sub_miss", "sub_churn_labels", "sub_churn_primary"} & inputs
    assert inputs == {
        "subscription_features",
        "currency_monthly",
        "champion_model@pyfunc",
        "params:batch_predict.window",
        "params:features.windows_months",
    }


def test_predictions_carry_ids_and_model_identity(feature_store, trained, base_params):
    out = run_in_memory(
        sub_churn_batch_predict.create_pipeline(),
        {
            **feature_store,
            "champion_model@pyfunc": ModelVersion(
                trained["sub_churn_model"], source="test champion"
            ),
        },
        base_params,
    )
    predictions = out["batch_predictions"]
    assert list(predictions.columns) == [
        "char_id",
        "sub_id",
        "sub_start_date",
        "sub_churn_pred",
        "model_id",
        "model_source",
    ]
    assert predictions["sub_churn_pred"].between(0, 1).all()
    assert (predictions["model_id"] == trained["sub_churn_model"].model_id_).all()
    assert (predictions["model_source"] == "test champion").all()
    window = base_params["batch_predict"]["window"]
    assert (
        predictions["sub_start_date"]
        .between(window["date_start"], window["date_end"])
        .all()
    )
    # the same subscriptions through the labelled store give the same features
    labelled = feature_table(
        feature_store["sub_churn_primary"].query("sub_id in @predictions.sub_id"),
        feature_store["currency_monthly"],
        base_params["features"]["windows_months"],
    ).drop(columns=["sub_churn", "label_state"])
    pd.testing.assert_frame_equal(
        labelled.sort_values("sub_id").reset_index(drop=True),
        out["batch_predict_features"].sort_values("sub_id").reset_index(drop=True),
    )
