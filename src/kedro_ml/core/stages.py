"""The bodies of the standard and window nodes that run on both engines, and the lines they log.

On pandas a node calls one of these on the whole table; on Spark
(``kedro_ml.spark.nodes``) the same function runs on each bucket of
characters or subscriptions, and what spans buckets (a unique key, the
latest month, counts) is computed in Spark. The counts a node reports are
logged by one function here, whichever engine computed them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from kedro_ml.core.features import FEATURE_LIMIT, term_features
from kedro_ml.core.labels import churn_labels
from kedro_ml.core.validation import (
    SCHEMAS,
    check_date_order,
    check_foreign_keys,
    check_rows,
    drop_impossible,
    sort_by_key,
    validate_table,
)

logger = logging.getLogger(__name__)


def validated_characters(characters: pd.DataFrame) -> pd.DataFrame:
    """The character table, typed, or a ``RawDataError`` naming the bad rows."""
    typed = validate_table(characters, SCHEMAS["characters"])
    check_date_order(
        typed, SCHEMAS["characters"], "creation_date", "class_mastery_date"
    )
    return typed


def validated_subscriptions(
    sub_data: pd.DataFrame, characters: pd.DataFrame, impossible_rows: str
) -> tuple[pd.DataFrame, list[int]]:
    """The subscription table, typed, each held by a known character that existed then.

    A subscription that starts before its character's creation month stops
    the run, or with ``impossible_rows: drop`` is left out; the ids left out
    come second.
    """
    typed = validate_table(sub_data, SCHEMAS["sub_data"])
    check_foreign_keys(
        typed,
        SCHEMAS["sub_data"],
        "char_id",
        characters["char_id"],
        "character_data.csv",
    )
    _check_term_features(typed)
    kept, dropped = drop_impossible(typed, characters, impossible_rows)
    return kept, [int(i) for i in dropped]


def _check_term_features(typed: pd.DataFrame) -> None:
    """Terms whose features overflow (a tiny price against a large delivery) are refused, named."""
    schema = SCHEMAS["sub_data"]
    for feature, values in term_features(typed).items():
        numbers = np.abs(np.asarray(values, dtype=np.float64))
        with np.errstate(invalid="ignore"):
            out_of_range = np.isinf(numbers) | (numbers > FEATURE_LIMIT)
        check_rows(
            schema,
            "price",
            f"makes the feature {feature} out of range (beyond {FEATURE_LIMIT:g}): "
            "not a price a game charges",
            typed,
            out_of_range,
        )


def validated_missed_months(
    sub_miss: pd.DataFrame, sub_data: pd.DataFrame, dropped_sub_ids: Sequence[int]
) -> tuple[pd.DataFrame, int]:
    """The missed-month runs, typed, of known subscriptions, in date order; and how many were left out.

    Runs of subscriptions left out as impossible go with them.
    """
    typed = validate_table(sub_miss, SCHEMAS["sub_miss"])
    orphaned = typed["sub_id"].isin(list(dropped_sub_ids)).to_numpy()
    typed = typed.loc[~orphaned].reset_index(drop=True)
    check_foreign_keys(
        typed, SCHEMAS["sub_miss"], "sub_id", sub_data["sub_id"], "sub_data.csv"
    )
    check_date_order(typed, SCHEMAS["sub_miss"], "start_date", "end_date")
    return typed, int(orphaned.sum())


def validated_currency(
    character_currency: pd.DataFrame, characters: pd.DataFrame
) -> pd.DataFrame:
    """Monthly currency rows, typed, each of a known character, sorted by character and month."""
    typed = validate_table(character_currency, SCHEMAS["character_currency"])
    check_foreign_keys(
        typed,
        SCHEMAS["character_currency"],
        "char_id",
        characters["char_id"],
        "character_data.csv",
    )
    return sort_by_key(typed, SCHEMAS["character_currency"])


def labels_as_of(
    sub_data: pd.DataFrame, sub_miss: pd.DataFrame, labels: Mapping[str, Any]
) -> pd.DataFrame:
    """The churn label of every subscription as of ``labels['as_of']`` (set by the caller)."""
    return churn_labels(
        sub_data, sub_miss, pd.Timestamp(labels["as_of"]), labels.get("horizon_months")
    )


def with_labels(features: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Subscription features with the ``sub_churn`` label and its state."""
    return features.merge(
        labels[["sub_id", "sub_churn", "label_state"]],
        on="sub_id",
        how="left",
        validate="one_to_one",
    )


def no_subscriptions_in(
    window: Mapping[str, Any], key: str, first: Any, last: Any
) -> ValueError:
    """The error of a window that selects nothing, naming its key and the data's span."""
    return ValueError(
        f"{key} {window['date_start']}..{window['date_end']} selects no subscriptions "
        f"(the data has {pd.Timestamp(first).date()}..{pd.Timestamp(last).date()}); "
        "change the window's dates"
    )


def log_dropped_subscriptions(dropped: Sequence[int]) -> None:
    """Say how many subscriptions were left out as impossible (none: nothing said)."""
    if len(dropped):
        logger.warning(
            "Left out %d subscription(s) that start before their character was "
            "created (validation.impossible_rows: drop), e.g. sub_id %s",
            len(dropped),
            ", ".join(str(i) for i in list(dropped)[:5]),
        )


def log_label_counts(as_of: Any, counts: Mapping[str, int]) -> None:
    """Say how many subscriptions churned, stayed, or have no label yet, and why."""
    logger.info(
        "Labels as of %s: %d churned, %d kept; no label yet: %d not settled, %d without a term",
        pd.Timestamp(as_of).date(),
        counts["churned"],
        counts["kept"],
        counts["unsettled"],
        counts["no_term"],
    )


def log_window(window: Mapping[str, Any], n_selected: int) -> None:
    """Say how many subscriptions a window selected."""
    logger.info(
        "Window %s..%s: %d subscriptions",
        window["date_start"],
        window["date_end"],
        n_selected,
    )
