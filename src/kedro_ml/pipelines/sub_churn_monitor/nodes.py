"""Nodes of the monitoring pipeline."""

from __future__ import annotations

import logging

import pandas as pd
from matplotlib.figure import Figure
from sklearn.pipeline import Pipeline

from kedro_ml.core.model import predict_proba
from kedro_ml.core.monitoring import drift_figure, drift_report

logger = logging.getLogger(__name__)


def report_drift(
    model: Pipeline,
    train_features: pd.DataFrame,
    batch_features: pd.DataFrame,
    monitoring: dict,
) -> tuple[dict, Figure]:
    """Drift of every model input and of the prediction, batch against training window."""
    report = drift_report(
        train_features,
        batch_features,
        list(model.feature_names_),
        predict_proba(model, train_features),
        predict_proba(model, batch_features),
        monitoring,
    )
    report["model_id"] = model.model_id_
    logger.info(
        "Drift: %d of %d features drifted (%s); retraining %s: %s",
        len(report["drifted_features"]),
        len(report["features"]),
        ", ".join(report["drifted_features"]) or "none",
        "recommended" if report["retrain_recommended"] else "not needed",
        "; ".join(report["reasons"]),
    )
    return report, drift_figure(report, train_features, batch_features)


def drift_metrics(report: dict) -> dict:
    """The report's headline figures as MLflow metrics."""
    figures = {
        "share_drifted": report["share_drifted"],
        "prediction_psi": report["prediction"]["psi"],
        "retrain_recommended": float(report["retrain_recommended"]),
    }
    return {key: {"value": float(value), "step": 0} for key, value in figures.items()}
