"""Nodes of the training pipeline: labels as of the cutoff, the configured model, in-sample scores."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from kedro_ml.core.labels import churn_labels, label_counts, training_label_as_of
from kedro_ml.core.model import (
    TARGET,
    build_model,
    build_search,
    empty_columns,
    model_id,
    predict_proba,
    resolve_columns,
    split_xy,
    with_seed,
)
from kedro_ml.core.reporting import evaluate_predictions, score_report
from kedro_ml.core.seeding import log_seed
from kedro_ml.serving.inputs import model_input_example

logger = logging.getLogger(__name__)


def label_training_rows(
    train_features: pd.DataFrame,
    sub_miss: pd.DataFrame,
    label_as_of: str | None,
    score_window: dict,
    horizon_months: int | None,
) -> tuple[pd.DataFrame, dict]:
    """The training window with its labels as known at the cutoff, and the cutoff's summary.

    The cutoff is ``train.label_as_of``, by default the month before
    ``score.window.date_start``: the labels a model deployed then could
    have learnt from. Subscriptions not settled by then have no label.
    """
    as_of = training_label_as_of(label_as_of, score_window["date_start"])
    labels = churn_labels(train_features, sub_miss, as_of, horizon_months)
    counts = label_counts(labels)
    logger.info(
        "Training labels as of %s: %d churned, %d kept; left out: %d not settled by then, "
        "%d without a term",
        as_of.date(),
        counts["churned"],
        counts["kept"],
        counts["unsettled"],
        counts["no_term"],
    )
    table = train_features.merge(
        labels[["sub_id", TARGET, "label_state"]],
        on="sub_id",
        how="left",
        validate="one_to_one",
    )
    return table, {"label_as_of": str(as_of.date()), **counts}


def _labelled(table: pd.DataFrame) -> pd.DataFrame:
    labelled = table[table[TARGET].notna()]
    if labelled[TARGET].nunique() < 2:
        raise ValueError(
            f"the training window holds {len(labelled)} labelled subscriptions of a single class; "
            "widen train.window or move it earlier so churned and kept subscriptions are both known"
        )
    return labelled.sort_values("sub_start_date", kind="stable").reset_index(drop=True)


@log_seed
def train_model(
    train_table: pd.DataFrame, model: dict, windows_months: list[int], seed: int | None
) -> Pipeline:
    """The configured sklearn Pipeline fitted on the labelled rows of the training window.

    It records its identity, seed, the columns it reads and the feature
    windows they were computed with (what the online model needs to rebuild them).
    """
    fitted, _ = fit_model(train_table, model, windows_months, seed)
    return fitted


def fit_model(
    train_table: pd.DataFrame, model: dict, windows_months: list[int], seed: int | None
) -> tuple[Pipeline, Any]:
    """``train_model``'s model, and the fitted search when ``model.search`` asks for one."""
    labelled = _labelled(train_table)
    x, y = split_xy(labelled.drop(columns="label_state"))
    selected = sorted(
        {
            c
            for patterns in model["features"].values()
            for c in resolve_columns(patterns, x.columns)
        }
    )
    empty = empty_columns(x[selected])
    if empty:
        logger.warning(
            "Left out of the model, empty in every training row: %s", ", ".join(empty)
        )
    estimator = with_seed(build_model(model, list(x.columns), exclude=empty), seed)
    search = model.get("search")
    searcher = None
    if search:
        searcher = build_search(estimator, search, seed).fit(x, y)
        logger.info(
            "Best %s %.4f with %s",
            searcher.scoring,
            searcher.best_score_,
            searcher.best_params_,
        )
        fitted = searcher.best_estimator_
    else:
        fitted = estimator.fit(x, y)
    fitted.model_id_ = model_id(model, seed, labelled)
    fitted.seed_ = seed
    fitted.windows_months_ = [int(w) for w in windows_months]
    # the columns the model reads, in the order of its feature groups
    fitted.feature_names_ = [
        c for _, _, cols in fitted.named_steps["preprocess"].transformers for c in cols
    ]
    logger.info("Trained model %s on %d subscriptions", fitted.model_id_, len(labelled))
    return fitted, searcher


def in_sample_report(
    model: Pipeline,
    train_table: pd.DataFrame,
    training_labels: dict,
    threshold: float,
    game: str,
) -> tuple[str, dict]:
    """The in-sample score report and metrics, naming the label cutoff and what it left out.

    Only labelled rows are scored: the others are counted, by reason, not scored.
    """
    labelled = train_table[TARGET].notna().to_numpy()
    scores = np.full(len(train_table), np.nan)
    scores[labelled] = predict_proba(model, train_table[labelled])
    predictions = train_table.assign(sub_churn_pred=scores)
    metrics, new_character = evaluate_predictions(predictions, threshold)
    metrics["label_as_of"] = training_labels["label_as_of"]
    metrics["model_id"] = model.model_id_
    report = score_report("In-sample score report", game, metrics, new_character)
    return report, metrics


def model_for_tracking(model: Pipeline, train_table: pd.DataFrame) -> dict:
    """The fitted model with a few rows of its input, as the served model takes them."""
    return {"model": model, "input_example": model_input_example(model, train_table)}


def training_run_params(training_labels: dict) -> dict[str, str]:
    """The run's resolved label cutoff and what it left out, as MLflow parameters."""
    return {
        "training.label_as_of": training_labels["label_as_of"],
        "training.n_unsettled_excluded": str(training_labels["unsettled"]),
        "training.n_no_term_excluded": str(training_labels["no_term"]),
    }


def training_tags(model: Pipeline) -> dict[str, str]:
    """Tags for the training run: the seed used (drawn or given) and the model's identity."""
    return {"seed": str(model.seed_), "model_id": model.model_id_}
