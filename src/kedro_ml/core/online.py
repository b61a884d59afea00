"""Features for subscriptions as they are bought: what the online store keeps, and rows built from it.

A game server knows the character and the subscription's terms, not sixty
trailing-window statistics. The online store keeps, per character, a
*template*: the feature row a subscription starting in the store's month
gets, but for what its own terms add (character facts as of that month, its
earlier subscriptions, the currency windows before it). A request's row is its
character's template plus ``term_features`` of its terms.

Templates come from the functions batch prediction uses
(``subscription_features``, ``feature_table``), so a subscription gets the same
features, and the same prediction, either way. A character the store does not
know gets the template of one *without history*: created in the store's month,
no facts, no earlier subscriptions, no currency rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from kedro_ml.core.features import (
    TERM_FEATURES,
    feature_table,
    prior_counts,
    subscription_features,
    term_features,
)

# what a request carries beside ``char_id``: the subscription's own terms
REQUEST_TERMS = (
    "sub_type",
    "sub_months",
    "sub_size",
    "price",
    "num_hard_currency",
    "num_soft_currency",
)
# a subscription's own columns, which a template leaves to the request
TERM_COLUMNS = (
    "sub_id",
    "sub_start_date",
    *REQUEST_TERMS,
    *TERM_FEATURES,
)


def _placeholders(char_ids: np.ndarray, as_of: pd.Timestamp) -> pd.DataFrame:
    """One subscription per character starting at ``as_of``, terms unknown, negative ids."""
    return pd.DataFrame(
        {
            "sub_id": -np.arange(1, len(char_ids) + 1, dtype=np.int64),
            "char_id": char_ids,
            "sub_start_date": np.full(len(char_ids), np.datetime64(as_of, "s")),
            **{name: np.nan for name in REQUEST_TERMS},
        }
    )


def _templates(
    characters: pd.DataFrame,
    subscriptions: pd.DataFrame,
    currency: pd.DataFrame,
    as_of: pd.Timestamp,
    windows_months: Sequence[int],
) -> pd.DataFrame:
    """Per character, the feature row of a subscription starting at ``as_of``, less its terms."""
    placeholders = _placeholders(characters["char_id"].to_numpy(), as_of)
    earlier = subscriptions.loc[
        subscriptions["sub_start_date"] < as_of, ["sub_id", "char_id", "sub_start_date"]
    ]
    rows = subscription_features(characters, pd.concat([earlier, placeholders]))
    rows = rows[rows["sub_id"] < 0].reset_index(drop=True)
    recent = currency["date"] < as_of
    table = feature_table(rows, currency.loc[recent], windows_months)
    return table.drop(columns=[c for c in TERM_COLUMNS if c in table])


def newcomer(as_of: pd.Timestamp) -> pd.DataFrame:
    """A character without history: created in month ``as_of``, no facts known."""
    return pd.DataFrame(
        {
            "char_id": np.array([0], dtype=np.int32),
            "gender": [np.nan],
            "race": [np.nan],
            "class": [np.nan],
            "territory": [np.nan],
            "creation_date": np.array([np.datetime64(as_of, "s")]),
            "class_mastery_date": np.array([np.datetime64("NaT", "s")]),
            "total_kills": [0],
            "total_deaths": [0],
        }
    )


def store_tables(
    characters: pd.DataFrame,
    subscriptions: pd.DataFrame,
    currency: pd.DataFrame,
    as_of: pd.Timestamp,
    windows_months: Sequence[int],
) -> dict[str, pd.DataFrame]:
    """What the online store keeps as of month ``as_of``.

    ``templates``: one row per character created by the end of that month,
    from what was known before ``as_of`` (subscriptions that started before
    it, currency rows dated before it). ``newcomer``: the one row of a
    character without history.
    """
    as_of = pd.Timestamp(as_of)
    # characters that exist by the end of the month (a later one cannot subscribe in it)
    existing = characters["creation_date"] < (as_of.to_period("M") + 1).to_timestamp()
    templates = _templates(
        characters.loc[existing], subscriptions, currency, as_of, windows_months
    )
    lone = _templates(
        newcomer(as_of),
        subscriptions.iloc[:0],
        currency.iloc[:0],
        as_of,
        windows_months,
    )
    return {"templates": templates, "newcomer": lone.drop(columns="char_id")}


def template_feature_rows(
    requests: Mapping[str, np.ndarray], templates: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Feature rows (as columns) for requests: their characters' templates plus their terms.

    ``templates`` holds one template row per request, in the requests' order.
    Two subscriptions of one character in the same request are counted as
    batch prediction counts them: the one with the higher ``sub_id`` (or,
    without ids, the later one in the request) has the other among its earlier
    subscriptions. One sent in an earlier request is not known until the store
    is refreshed.
    """
    rows = {**templates, **requests, **term_features(requests)}
    if "n_prior_subs" in templates:
        char_ids = np.asarray(requests["char_id"])
        sub_ids = np.asarray(requests["sub_id"])
        # without ids, requests get -1, -2, ...: request order is -sub_id order
        key = np.where(sub_ids < 0, -sub_ids, sub_ids)
        same_request = prior_counts(char_ids, np.lexsort((key, char_ids)))
        n_prior = np.asarray(templates["n_prior_subs"]) + same_request
        rows["n_prior_subs"] = n_prior.astype(
            np.asarray(templates["n_prior_subs"]).dtype
        )
        if "is_first_sub" in templates:
            rows["is_first_sub"] = (n_prior == 0).astype(
                np.asarray(templates["is_first_sub"]).dtype
            )
    return rows


def check_store_month(
    as_of: pd.Timestamp, last_data_month: pd.Timestamp, today: pd.Timestamp
) -> None:
    """Refuse a store month past what the data can describe, or past today.

    A store as of month ``m`` holds what was known before ``m``: the month
    after the last month of data at the latest (later months would answer
    with windows the data does not cover), and never a month that has not
    begun.
    """
    latest = (pd.Timestamp(last_data_month).to_period("M") + 1).to_timestamp()
    if as_of > latest:
        raise ValueError(
            f"online_store.as_of {as_of.date()} is after the data: the currency rows "
            f"end in {pd.Timestamp(last_data_month):%Y-%m}, so the store can be as of "
            f"{latest.date()} at the latest; give that month or null (the default)"
        )
    if as_of > pd.Timestamp(today):
        raise ValueError(
            f"online_store.as_of {as_of.date()} is after today ({pd.Timestamp(today).date()}): "
            "a store holds what is known when it is written"
        )
