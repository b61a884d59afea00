"""The Spark twins of the nodes: each runs the ``kedro_ml.core`` function of its pandas twin per key bucket.

A node of the feature, window and batch prediction pipelines whose input is a
Spark DataFrame calls the twin its ``runs_on_spark`` mark names. Rules that
span buckets (a unique ``sub_id``, the latest month, the counts a node logs)
are computed in Spark; every rule of one character or subscription runs in
the core function (``kedro_ml.core.stages``), which both twins call.
Validation is computed at once, so that a broken rule stops its node, named,
before anything downstream is written. This module imports ``core`` only.
"""

from __future__ import annotations

from functools import partial

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from kedro_ml.core.batch import batch_predictions, log_batch_prediction
from kedro_ml.core.features import feature_table, select_window, subscription_features
from kedro_ml.core.labels import label_counts
from kedro_ml.core.model import ModelVersion
from kedro_ml.core.stages import (
    labels_as_of,
    log_dropped_subscriptions,
    log_label_counts,
    log_window,
    no_subscriptions_in,
    validated_characters,
    validated_currency,
    validated_missed_months,
    validated_subscriptions,
    with_labels,
)
from kedro_ml.core.validation import (
    MAX_ROWS_SHOWN,
    SCHEMAS,
    check_shape,
    fail_with_rows,
)

from .buckets import (
    apply_by_key,
    apply_by_partition,
    key_number,
    materialise,
    to_pandas,
)


def _check_shape(frame: DataFrame, table: str) -> None:
    check_shape(frame.columns, 0 if frame.isEmpty() else 1, SCHEMAS[table])


def _check_unique(frame: DataFrame, table: str) -> None:
    """The table's key is unique across buckets (within one, pandas checks it)."""
    schema = SCHEMAS[table]
    key = list(schema.key)
    repeated = frame.groupBy(*key).count().filter(F.col("count") > 1)
    if repeated.isEmpty():
        return
    rows = to_pandas(
        frame.join(repeated.select(*key), on=key)
        .orderBy(*key)
        .limit(4 * MAX_ROWS_SHOWN)
        .drop(*(c for c in frame.columns if c.startswith("_")))
    )
    fail_with_rows(schema, ", ".join(key), "must be unique (duplicate key)", rows)


def validate_characters(characters: DataFrame) -> DataFrame:
    """The character table, typed, on Spark."""
    _check_shape(characters, "characters")
    return materialise(
        apply_by_key(validated_characters, [characters], "char_id"),
        "validate_characters",
    )


def _kept_subscriptions(
    sub_data: pd.DataFrame, characters: pd.DataFrame, impossible_rows: str
) -> pd.DataFrame:
    return validated_subscriptions(sub_data, characters, impossible_rows)[0]


def validate_sub_data(
    sub_data: DataFrame, characters: DataFrame, validation: dict
) -> tuple[DataFrame, list[int]]:
    """The subscription table, typed, and the ids left out as impossible, on Spark."""
    _check_shape(sub_data, "sub_data")
    kept = materialise(
        apply_by_key(
            partial(_kept_subscriptions, impossible_rows=validation["impossible_rows"]),
            [sub_data, characters],
            "char_id",
        ),
        "validate_sub_data",
    )
    _check_unique(kept, "sub_data")
    dropped = []
    if validation["impossible_rows"] == "drop":
        # a row breaking any other rule stopped the node: the rest left out are impossible
        dropped = sorted(
            int(row[0])
            for row in sub_data.select(key_number("sub_id"))
            .subtract(kept.select(F.col("sub_id").cast("long")))
            .collect()
        )
    log_dropped_subscriptions(dropped)
    return kept, dropped


def validate_sub_miss(
    sub_miss: DataFrame, sub_data: DataFrame, dropped_sub_ids: list[int]
) -> tuple[DataFrame, dict]:
    """The missed-month runs, typed, for known subscriptions, and the counts left out, on Spark."""
    _check_shape(sub_miss, "sub_miss")

    def bucket(miss: pd.DataFrame, subs: pd.DataFrame) -> pd.DataFrame:
        return validated_missed_months(miss, subs, dropped_sub_ids)[0]

    typed = materialise(
        apply_by_key(bucket, [sub_miss, sub_data.select("sub_id")], "sub_id"),
        "validate_sub_miss",
    )
    dropped = {
        "impossible_subscriptions_dropped": len(dropped_sub_ids),
        "sub_miss_rows_dropped": sub_miss.count() - typed.count(),
    }
    return typed, dropped


def validate_character_currency(
    character_currency: DataFrame, characters: DataFrame
) -> DataFrame:
    """Monthly currency rows, typed, each of a known character, on Spark."""
    _check_shape(character_currency, "character_currency")
    return materialise(
        apply_by_key(
            validated_currency,
            [character_currency, characters.select("char_id")],
            "char_id",
        ),
        "validate_character_currency",
    )


def _features_bucket(sub_data: pd.DataFrame, characters: pd.DataFrame) -> pd.DataFrame:
    return subscription_features(characters, sub_data)


def build_subscription_features(
    characters: DataFrame, sub_data: DataFrame
) -> DataFrame:
    """One row per subscription with its features as of its start month, on Spark."""
    return apply_by_key(_features_bucket, [sub_data, characters], "char_id")


def build_churn_labels(
    sub_data: DataFrame, sub_miss: DataFrame, currency: DataFrame, labels: dict
) -> DataFrame:
    """The churn label of every subscription, on Spark (the latest month from Spark)."""
    if not labels.get("as_of"):
        latest = currency.agg(F.max("date")).first()[0]
        labels = {**labels, "as_of": str(pd.Timestamp(latest).date())}

    def bucket(subs: pd.DataFrame, miss: pd.DataFrame) -> pd.DataFrame:
        return labels_as_of(subs, miss, labels)

    result = materialise(
        apply_by_key(bucket, [sub_data, sub_miss], "sub_id"), "build_churn_labels"
    )
    counts = (
        apply_by_key(
            lambda part: pd.DataFrame([label_counts(part)]), [result], "sub_id"
        )
        .groupBy()
        .sum()
        .first()
    )
    counts = {
        k.removeprefix("sum(").removesuffix(")"): int(v or 0)
        for k, v in counts.asDict().items()
    }
    log_label_counts(labels["as_of"], counts)
    return result


def join_labels(subscription_features: DataFrame, labels: DataFrame) -> DataFrame:
    """Subscription features with the label and its state, on Spark."""
    return apply_by_key(with_labels, [subscription_features, labels], "sub_id")


def select_subscriptions(
    subscriptions: DataFrame, window: dict, key: str = "window"
) -> DataFrame:
    """Subscriptions starting inside the window, on Spark; fails, naming ``key``, when none."""
    selected = materialise(
        apply_by_partition(partial(select_window, window=window), subscriptions),
        "select_subscriptions",
    )
    n = selected.count()
    if n == 0:
        bounds = subscriptions.agg(
            F.min("sub_start_date").alias("first"),
            F.max("sub_start_date").alias("last"),
        ).first()
        raise no_subscriptions_in(window, key, bounds["first"], bounds["last"])
    log_window(window, n)
    return selected


def add_currency_features(
    subscriptions: DataFrame, currency: DataFrame, windows_months: list[int]
) -> DataFrame:
    """The subscriptions with point-in-time currency features appended, on Spark.

    Rows come out in ``sub_id`` order, as on the pandas path: a model fitted on
    the same rows in the same order is the same model (and has the same id).
    """
    return apply_by_key(
        partial(feature_table, windows_months=windows_months),
        [subscriptions, currency],
        "char_id",
    ).orderBy("sub_id")


def predict_batch(champion: ModelVersion, batch_features: DataFrame) -> DataFrame:
    """The champion's churn probabilities, applied per partition on Spark."""
    log_batch_prediction(None, champion)
    return apply_by_partition(
        partial(batch_predictions, champion), batch_features
    ).orderBy("sub_id")


__all__ = [
    "add_currency_features",
    "build_churn_labels",
    "build_subscription_features",
    "join_labels",
    "predict_batch",
    "select_subscriptions",
    "validate_character_currency",
    "validate_characters",
    "validate_sub_data",
    "validate_sub_miss",
]
