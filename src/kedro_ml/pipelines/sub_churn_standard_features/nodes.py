"""Nodes of the standard features pipeline: validation, features as of start, labels.

Given Spark DataFrames (``--env=spark_env``), each node runs on Spark: the
same function per bucket of characters (``kedro_ml.spark.nodes``).
"""

from __future__ import annotations

import logging

import pandas as pd

from kedro_ml.core.features import subscription_features
from kedro_ml.core.labels import churn_labels, label_counts, last_month
from kedro_ml.core.validation import (
    SCHEMAS,
    check_date_order,
    check_foreign_keys,
    drop_impossible,
    sort_by_key,
    validate_table,
)
from kedro_ml.spark import runs_on_spark

logger = logging.getLogger(__name__)


@runs_on_spark
def validate_characters(characters: pd.DataFrame) -> pd.DataFrame:
    """The character table, typed, or a ``RawDataError`` naming the bad rows."""
    typed = validate_table(characters, SCHEMAS["characters"])
    check_date_order(
        typed, SCHEMAS["characters"], "creation_date", "class_mastery_date"
    )
    return typed


@runs_on_spark
def validate_sub_data(
    sub_data: pd.DataFrame, characters: pd.DataFrame, validation: dict
) -> tuple[pd.DataFrame, list[int]]:
    """The subscription table, typed, each held by a known character that existed then.

    A subscription that starts before its character's creation month stops
    the run, or with ``validation.impossible_rows: drop`` is left out; the
    ids left out come second.
    """
    typed = validate_table(sub_data, SCHEMAS["sub_data"])
    check_foreign_keys(
        typed,
        SCHEMAS["sub_data"],
        "char_id",
        characters["char_id"],
        "character_data.csv",
    )
    kept, dropped = drop_impossible(typed, characters, validation["impossible_rows"])
    if len(dropped):
        logger.warning(
            "Left out %d subscription(s) that start before their character was "
            "created (validation.impossible_rows: drop), e.g. sub_id %s",
            len(dropped),
            ", ".join(str(i) for i in dropped[:5]),
        )
    return kept, [int(i) for i in dropped]


@runs_on_spark
def validate_sub_miss(
    sub_miss: pd.DataFrame, sub_data: pd.DataFrame, dropped_sub_ids: list[int]
) -> tuple[pd.DataFrame, dict]:
    """The missed-month runs, typed, each for a known subscription and in date order.

    Runs of subscriptions left out as impossible go with them; both counts
    come second, as the run's validation metrics.
    """
    typed = validate_table(sub_miss, SCHEMAS["sub_miss"])
    orphaned = typed["sub_id"].isin(dropped_sub_ids).to_numpy()
    typed = typed.loc[~orphaned].reset_index(drop=True)
    check_foreign_keys(
        typed, SCHEMAS["sub_miss"], "sub_id", sub_data["sub_id"], "sub_data.csv"
    )
    check_date_order(typed, SCHEMAS["sub_miss"], "start_date", "end_date")
    dropped = {
        "impossible_subscriptions_dropped": len(dropped_sub_ids),
        "sub_miss_rows_dropped": int(orphaned.sum()),
    }
    return typed, dropped


@runs_on_spark
def validate_character_currency(
    character_currency: pd.DataFrame, characters: pd.DataFrame
) -> pd.DataFrame:
    """Monthly currency rows, typed and sorted by character and month."""
    typed = validate_table(character_currency, SCHEMAS["character_currency"])
    check_foreign_keys(
        typed,
        SCHEMAS["character_currency"],
        "char_id",
        characters["char_id"],
        "character_data.csv",
    )
    return sort_by_key(typed, SCHEMAS["character_currency"])


@runs_on_spark
def build_subscription_features(
    characters: pd.DataFrame, sub_data: pd.DataFrame
) -> pd.DataFrame:
    """One row per subscription with its non-currency features as of its start month."""
    return subscription_features(characters, sub_data)


@runs_on_spark
def build_churn_labels(
    sub_data: pd.DataFrame,
    sub_miss: pd.DataFrame,
    currency: pd.DataFrame,
    labels: dict,
) -> pd.DataFrame:
    """The churn label of every subscription as of ``labels.as_of`` (default: the latest month)."""
    as_of = (
        pd.Timestamp(labels["as_of"]) if labels.get("as_of") else last_month(currency)
    )
    result = churn_labels(sub_data, sub_miss, as_of, labels.get("horizon_months"))
    counts = label_counts(result)
    logger.info(
        "Labels as of %s: %d churned, %d kept; no label yet: %d not settled, %d without a term",
        as_of.date(),
        counts["churned"],
        counts["kept"],
        counts["unsettled"],
        counts["no_term"],
    )
    return result


@runs_on_spark
def join_labels(
    subscription_features: pd.DataFrame, labels: pd.DataFrame
) -> pd.DataFrame:
    """Subscription features with the ``sub_churn`` label and its state: the primary churn table."""
    return subscription_features.merge(
        labels[["sub_id", "sub_churn", "label_state"]],
        on="sub_id",
        how="left",
        validate="one_to_one",
    )
