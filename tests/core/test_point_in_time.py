"""No leakage: what happens from a subscription's start month on cannot change what the model reads.

On the committed sample, every raw row dated on or after the month the batch
window starts is changed (currency values, later subscriptions, masteries,
lifetime totals) and rows are added; the feature values of the subscriptions
starting that month must not move, for every column the default model reads.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kedro_ml.core.features import feature_table, select_window, subscription_features
from kedro_ml.core.model import resolve_columns
from kedro_ml.core.validation import SCHEMAS, validate_table
from tests.conftest import PROJECT_ROOT, project_parameters

RAW = PROJECT_ROOT / "data" / "01_raw"
FILES = {
    "characters": "character_data.csv",
    "sub_data": "sub_data.csv",
    "character_currency": "character_currency.csv",
}


def _raw() -> dict[str, pd.DataFrame]:
    return {
        name: validate_table(pd.read_csv(RAW / file), SCHEMAS[name])
        for name, file in FILES.items()
    }


def _features(tables: dict, month: pd.Timestamp, windows: list[int]) -> pd.DataFrame:
    subs = subscription_features(tables["characters"], tables["sub_data"])
    chosen = select_window(subs, {"date_start": month, "date_end": month})
    currency = tables["character_currency"].sort_values(["char_id", "date"])
    table = feature_table(chosen, currency, windows)
    return table.sort_values("sub_id").reset_index(drop=True)


def _rewrite_the_future(tables: dict, month: pd.Timestamp) -> dict:
    rng = np.random.default_rng(11)
    out = {name: frame.copy() for name, frame in tables.items()}
    currency = out["character_currency"]
    future = currency["date"] >= month
    for column in ("hard_balance", "soft_balance", "sub_hard", "sub_soft"):
        currency.loc[future, column] = rng.uniform(0, 1e6, int(future.sum())).astype(
            np.float32
        )
    extra = (
        currency[future]
        .drop_duplicates("char_id")
        .assign(date=pd.Timestamp("2018-03-01"), soft_balance=123.0)
    )
    out["character_currency"] = pd.concat([currency, extra], ignore_index=True)
    subs = out["sub_data"]
    later = subs["sub_start_date"] > month
    subs = subs[~(later & (rng.random(len(subs)) < 0.5))]  # drop half the later ones
    late_copy = subs[subs["sub_start_date"] > month].assign(
        sub_id=lambda f: f["sub_id"] + 10_000_000, price=99.0
    )
    out["sub_data"] = pd.concat([subs, late_copy], ignore_index=True)
    chars = out["characters"]
    mastered_later = chars["class_mastery_date"] >= month
    chars.loc[mastered_later, "class_mastery_date"] = pd.NaT
    chars["total_kills"] = chars["total_kills"] * 7  # extraction-time totals change
    chars["total_deaths"] = chars["total_deaths"] + 5
    return out


def test_changing_rows_dated_from_the_start_month_on_changes_no_model_input():
    params = project_parameters()
    month = pd.Timestamp(params["batch_predict"]["window"]["date_start"])
    windows = params["features"]["windows_months"]
    tables = _raw()
    before = _features(tables, month, windows)
    after = _features(_rewrite_the_future(tables, month), month, windows)
    assert len(before) > 200

    read = sorted(
        {
            column
            for patterns in params["model"]["features"].values()
            for column in resolve_columns(patterns, list(before.columns))
        }
    )
    assert len(read) > 60  # every column the default model reads, checked below
    pd.testing.assert_frame_equal(before[read], after[read])
    # the check has teeth: the extraction-time ratio, which the model does not
    # read, did move
    assert not before["kd_ratio"].equals(after["kd_ratio"])
