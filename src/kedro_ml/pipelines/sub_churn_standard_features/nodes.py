"""Nodes of the standard features pipeline: validation, features as of start, labels.

Given Spark DataFrames (``--env=spark_env``), each node runs its Spark twin
(``kedro_ml.spark.nodes``), which calls the same ``kedro_ml.core`` functions
per bucket of characters.
"""

from __future__ import annotations

import pandas as pd

from kedro_ml.core.features import subscription_features
from kedro_ml.core.labels import label_counts, last_month
from kedro_ml.core.stages import (
    labels_as_of,
    log_dropped_subscriptions,
    log_label_counts,
    validated_characters,
    validated_currency,
    validated_missed_months,
    validated_subscriptions,
    with_labels,
)
from kedro_ml.spark import runs_on_spark


@runs_on_spark("validate_characters")
def validate_characters(characters: pd.DataFrame) -> pd.DataFrame:
    """The character table, typed, or a ``RawDataError`` naming the bad rows."""
    return validated_characters(characters)


@runs_on_spark("validate_sub_data")
def validate_sub_data(
    sub_data: pd.DataFrame, characters: pd.DataFrame, validation: dict
) -> tuple[pd.DataFrame, list[int]]:
    """The subscription table, typed, each held by a known character that existed then.

    A subscription that starts before its character's creation month stops
    the run, or with ``validation.impossible_rows: drop`` is left out; the
    ids left out come second.
    """
    kept, dropped = validated_subscriptions(
        sub_data, characters, validation["impossible_rows"]
    )
    log_dropped_subscriptions(dropped)
    return kept, dropped


@runs_on_spark("validate_sub_miss")
def validate_sub_miss(
    sub_miss: pd.DataFrame, sub_data: pd.DataFrame, dropped_sub_ids: list[int]
) -> tuple[pd.DataFrame, dict]:
    """The missed-month runs, typed, each for a known subscription and in date order.

    Runs of subscriptions left out as impossible go with them; both counts
    come second, as the run's validation metrics.
    """
    typed, orphaned = validated_missed_months(sub_miss, sub_data, dropped_sub_ids)
    dropped = {
        "impossible_subscriptions_dropped": len(dropped_sub_ids),
        "sub_miss_rows_dropped": orphaned,
    }
    return typed, dropped


@runs_on_spark("validate_character_currency")
def validate_character_currency(
    character_currency: pd.DataFrame, characters: pd.DataFrame
) -> pd.DataFrame:
    """Monthly currency rows, typed and sorted by character and month."""
    return validated_currency(character_currency, characters)


@runs_on_spark("build_subscription_features")
def build_subscription_features(
    characters: pd.DataFrame, sub_data: pd.DataFrame
) -> pd.DataFrame:
    """One row per subscription with its non-currency features as of its start month."""
    return subscription_features(characters, sub_data)


@runs_on_spark("build_churn_labels")
def build_churn_labels(
    sub_data: pd.DataFrame,
    sub_miss: pd.DataFrame,
    currency: pd.DataFrame,
    labels: dict,
) -> pd.DataFrame:
    """The churn label of every subscription as of ``labels.as_of`` (default: the latest month)."""
    as_of = labels.get("as_of") or last_month(currency)
    result = labels_as_of(sub_data, sub_miss, {**labels, "as_of": as_of})
    log_label_counts(as_of, label_counts(result))
    return result


@runs_on_spark("join_labels")
def join_labels(
    subscription_features: pd.DataFrame, labels: pd.DataFrame
) -> pd.DataFrame:
    """Subscription features with the ``sub_churn`` label and its state: the primary churn table."""
    return with_labels(subscription_features, labels)
