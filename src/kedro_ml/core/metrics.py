"""Metrics in the shape kedro-mlflow's metrics datasets log.

A module of its own, free of scikit-learn and matplotlib, so that pipelines
which only count rows (the standard features) do not import either.
"""

from __future__ import annotations

from collections.abc import Mapping


def mlflow_metrics(metrics: Mapping) -> dict[str, dict[str, float]]:
    """The numeric entries of ``metrics`` in the form of kedro-mlflow's metrics datasets."""
    return {
        key: {"value": float(value), "step": 0}
        for key, value in metrics.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }
