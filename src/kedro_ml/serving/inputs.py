"""What the served model takes: request rows, checked against the data contract."""

from __future__ import annotations

from typing import Any

import pandas as pd


def model_input_example(
    model: Any, features: pd.DataFrame, rows: int = 5
) -> pd.DataFrame:
    """A few rows with exactly the columns the model reads (plus ``sub_id``), JSON-friendly."""
    columns = ["sub_id", *model.feature_names_]
    example = features[columns].head(rows).copy()
    for column in example.select_dtypes(include=["category"]).columns:
        example[column] = example[column].astype(str)
    # numbers arrive as JSON doubles, and integer features may be missing: declare doubles
    numeric = example.select_dtypes(include=["number"]).columns.drop(
        "sub_id", errors="ignore"
    )
    example[numeric] = example[numeric].astype("float64")
    return example.reset_index(drop=True)
