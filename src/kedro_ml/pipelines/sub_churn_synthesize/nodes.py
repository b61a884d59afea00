"""Nodes of the synthetic data pipeline."""

from __future__ import annotations

import pandas as pd

from kedro_ml.core.synthetic import generate_raw_tables


def synthesize_raw_tables(
    synthesize: dict,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Characters, subscriptions, missed runs, monthly currency and true churn probabilities."""
    tables = generate_raw_tables(synthesize)
    return (
        tables.characters,
        tables.sub_data,
        tables.sub_miss,
        tables.character_currency,
        tables.sub_churn_truth,
    )
