"""The churn label and its censoring rule (data contract, "The label").

Months are integers (``year * 12 + month``). A subscription starting in month
``S`` has a horizon of ``H`` months: its term (``sub_months``) by default, or
a fixed ``horizon_months``. As of month ``A`` (the last month whose data is
known), its missed months are the union of its ``sub_miss`` runs clipped to
``S .. A``. It churned when three consecutive missed months begin inside the
horizon (some ``m`` in ``S .. S + H - 1`` with ``m``, ``m + 1`` and ``m + 2``
missed); the label is settled once ``A >= S + H + 1`` and unknown before,
whatever has been seen, so churned and kept subscriptions are censored alike.
Under the term horizon, a subscription without a term has no label.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kedro_ml.core.features import month_index

CHURN_RUN_MONTHS = 3

SETTLED = "settled"
UNSETTLED = "unsettled"  # the horizon, plus the time a run needs to show, is not over
NO_TERM = "no_term"  # sub_months = 0 under the term horizon
LABEL_STATES = (SETTLED, UNSETTLED, NO_TERM)


def _month(value: pd.Timestamp | str) -> int:
    return int(month_index(pd.Series([pd.Timestamp(value)]))[0])


def churn_labels(
    sub_data: pd.DataFrame,
    sub_miss: pd.DataFrame,
    as_of: pd.Timestamp | str,
    horizon_months: int | None = None,
) -> pd.DataFrame:
    """``sub_churn`` (1, 0, or missing), and why, for every subscription as of ``as_of``.

    Columns: ``sub_id``, ``sub_churn`` (nullable Int8, set only when settled)
    and ``label_state`` (``settled``, ``unsettled`` or ``no_term``).
    """
    a = _month(as_of)
    start = month_index(sub_data["sub_start_date"])
    if horizon_months is None:
        horizon = sub_data["sub_months"].to_numpy(dtype=np.int64)
    else:
        horizon = np.full(len(sub_data), int(horizon_months), dtype=np.int64)
    subs = pd.DataFrame(
        {"sub_id": sub_data["sub_id"].to_numpy(), "start": start, "horizon": horizon}
    )

    # missed months, per subscription, clipped to S .. A
    runs = pd.DataFrame(
        {
            "sub_id": sub_miss["sub_id"].to_numpy(),
            "first": month_index(sub_miss["start_date"]),
            "last": month_index(sub_miss["end_date"]),
        }
    ).merge(subs[["sub_id", "start"]], on="sub_id", how="inner")
    runs["first"] = np.maximum(runs["first"].to_numpy(), runs["start"].to_numpy())
    runs["last"] = np.minimum(runs["last"].to_numpy(), a)
    runs = runs[runs["first"] <= runs["last"]].sort_values(
        ["sub_id", "first"], kind="stable"
    )
    # adjacent or overlapping rows of one subscription form one run of missed months
    reach = runs.groupby("sub_id", sort=False)["last"].cummax()
    previous_reach = reach.groupby(runs["sub_id"], sort=False).shift()
    new_run = previous_reach.isna() | (runs["first"] > previous_reach + 1)
    spans = runs.groupby(new_run.cumsum().to_numpy()).agg(
        sub_id=("sub_id", "first"), first=("first", "min"), last=("last", "max")
    )
    # the earliest month a three-month run begins is the first month of its span
    spans = spans[spans["last"] - spans["first"] + 1 >= CHURN_RUN_MONTHS]
    churn_start = spans.groupby("sub_id")["first"].min()

    first_three = churn_start.reindex(subs["sub_id"]).to_numpy(dtype=float)
    churned = first_three <= start + horizon - 1  # NaN (no such run) compares False
    # the state as its position in LABEL_STATES (settled, unsettled, no term)
    state = np.where(
        (horizon_months is None) & (horizon <= 0),
        LABEL_STATES.index(NO_TERM),
        np.where(
            a >= start + horizon + 1,
            LABEL_STATES.index(SETTLED),
            LABEL_STATES.index(UNSETTLED),
        ),
    )
    label = pd.array(churned.astype(np.int8), dtype="Int8")
    label[state != LABEL_STATES.index(SETTLED)] = pd.NA
    return pd.DataFrame(
        {
            "sub_id": subs["sub_id"].to_numpy(),
            "sub_churn": label,
            "label_state": pd.Categorical.from_codes(state, categories=LABEL_STATES),
        }
    )


def last_month(currency: pd.DataFrame) -> pd.Timestamp:
    """The last month present in the currency table (the default label as-of)."""
    return pd.Timestamp(currency["date"].max())


def month_before(date: pd.Timestamp | str) -> pd.Timestamp:
    """The first day of the month before ``date``'s month."""
    return (pd.Timestamp(date).to_period("M") - 1).to_timestamp()


def training_label_as_of(
    label_as_of: str | None, deployment_month: str | pd.Timestamp
) -> pd.Timestamp:
    """The month training labels are known as of: given, or the month before deployment.

    A model deployed at the start of a month could only have learnt from labels
    settled by the month before, so a backtest that scores it from that month
    on must not train on anything later.
    """
    cutoff = month_before(deployment_month)
    if label_as_of is None:
        return cutoff
    as_of = pd.Timestamp(label_as_of)
    if as_of > cutoff:
        raise ValueError(
            f"train.label_as_of {as_of.date()} is not before the scored months, which "
            f"start {pd.Timestamp(deployment_month).date()}: training would learn "
            f"labels the model could not have known; use {cutoff.date()} or earlier"
        )
    return as_of


def label_counts(labels: pd.DataFrame) -> dict[str, int]:
    """How many subscriptions churned, were kept, and have no label yet (and why)."""
    state = labels["label_state"]  # compared as categories: no string per row
    return {
        "churned": int((labels["sub_churn"] == 1).sum()),
        "kept": int((labels["sub_churn"] == 0).sum()),
        UNSETTLED: int((state == UNSETTLED).sum()),
        NO_TERM: int((state == NO_TERM).sum()),
    }
