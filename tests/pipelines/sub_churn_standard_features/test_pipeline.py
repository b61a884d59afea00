"""``sub_churn_standard_features`` on an in-memory catalog."""

from __future__ import annotations

import pandas as pd
import pytest

from kedro_ml.core.validation import RawDataError
from kedro_ml.pipelines import sub_churn_standard_features
from tests.conftest import raw_datasets, run_in_memory


def test_one_row_per_subscription_with_label(feature_store, small_raw_tables):
    primary = feature_store["sub_churn_primary"]
    assert len(primary) == len(small_raw_tables.sub_data)
    assert primary["sub_id"].is_unique
    assert set(primary["sub_churn"].dropna().unique()) == {0, 1}
    assert primary["sub_churn"].isna().any()  # the last months are censored
    assert "sub_churn" not in feature_store["subscription_features"].columns


def test_currency_is_typed_and_sorted(feature_store):
    currency = feature_store["currency_monthly"]
    assert str(currency["char_id"].dtype) == "int32"
    keys = currency[["char_id", "date"]]
    assert keys.equals(keys.sort_values(["char_id", "date"]))


def test_a_contract_violation_stops_the_pipeline(small_raw_tables, base_params):
    datasets = raw_datasets(small_raw_tables)
    subs = datasets["sub_data"]
    datasets["sub_data"] = pd.concat([subs, subs.iloc[[0]]], ignore_index=True)
    with pytest.raises(RawDataError, match=r"sub_data\.csv.*'sub_id'.*duplicate key"):
        run_in_memory(
            sub_churn_standard_features.create_pipeline(), datasets, base_params
        )


def test_nodes_have_stable_names():
    names = {n.name for n in sub_churn_standard_features.create_pipeline().nodes}
    assert {"validate_sub_data", "build_churn_labels", "join_labels"} <= names
