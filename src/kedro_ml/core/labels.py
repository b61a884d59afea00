"""The churn label and its censoring rule (data contract, "The label")."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kedro_ml.core.features import month_index

CHURN_RUN_MONTHS = 3


def churn_labels(
    sub_data: pd.DataFrame, sub_miss: pd.DataFrame, as_of: pd.Timestamp
) -> pd.DataFrame:
    """``sub_churn`` per subscription: 1, 0, or missing while censored at ``as_of``."""
    as_of_m = month_index(pd.Series([pd.Timestamp(as_of)]))[0]
    runs = pd.DataFrame(
        {
            "sub_id": sub_miss["sub_id"].to_numpy(),
            "start": month_index(sub_miss["start_date"]),
            "end": np.minimum(month_index(sub_miss["end_date"]), as_of_m),
        }
    )
    runs = runs[runs["start"] <= as_of_m].sort_values(
        ["sub_id", "start"], kind="stable"
    )
    # adjacent or overlapping rows of one subscription form one run of missed months
    reach = runs.groupby("sub_id", sort=False)["end"].cummax()
    prev_reach = reach.groupby(runs["sub_id"], sort=False).shift()
    new_run = prev_reach.isna() | (runs["start"] > prev_reach + 1)
    run_id = new_run.cumsum()
    spans = runs.groupby(run_id).agg(
        sub_id=("sub_id", "first"), start=("start", "min"), end=("end", "max")
    )
    longest = (spans["end"] - spans["start"] + 1).groupby(spans["sub_id"]).max()

    run_months = longest.reindex(sub_data["sub_id"].to_numpy()).fillna(0).to_numpy()
    churned = run_months >= CHURN_RUN_MONTHS
    settled = (
        as_of_m
        >= month_index(sub_data["sub_start_date"])
        + sub_data["sub_months"].to_numpy()
        + 2
    )
    label = pd.array(np.where(churned, 1, 0), dtype="Int8")
    label[~churned & ~settled] = pd.NA
    return pd.DataFrame(
        {
            "sub_id": sub_data["sub_id"].to_numpy(),
            "sub_churn": label,
            "longest_missed_run": run_months.astype(np.int32),
        }
    )


def last_month(currency: pd.DataFrame) -> pd.Timestamp:
    """The last month present in the currency table (the default label as-of)."""
    return pd.Timestamp(currency["date"].max())
