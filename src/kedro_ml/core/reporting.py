"""Metrics, text reports and figures for scored predictions.

Figures are built on ``matplotlib.figure.Figure`` (no pyplot state), so nodes
can return them to a ``matplotlib.MatplotlibDataset`` without leaking windows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    log_loss,
    precision_recall_curve,
    precision_recall_fscore_support,
    roc_auc_score,
    roc_curve,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _both_classes(y: np.ndarray) -> bool:
    return len(np.unique(y)) == 2


def roc_auc_or_none(y: np.ndarray, proba: np.ndarray) -> float | None:
    """ROC-AUC, or None when ``y`` does not hold both classes."""
    return float(roc_auc_score(y, proba)) if _both_classes(y) else None


def lift_at(y: np.ndarray, proba: np.ndarray, share: float = 0.1) -> float | None:
    """Churn rate among the top ``share`` of predictions over the overall churn rate."""
    if len(y) == 0 or y.mean() == 0:
        return None
    top = max(1, round(len(y) * share))
    order = np.argsort(-proba, kind="stable")[:top]
    return float(y[order].mean() / y.mean())


def expected_calibration_error(
    y: np.ndarray, proba: np.ndarray, bins: int = 10
) -> float | None:
    """Mean gap between observed and predicted churn rate over equal-frequency bins.

    Rows are ordered by prediction and cut into ``bins`` groups of (nearly)
    equal size; each group counts the same.
    """
    y = np.asarray(y, dtype=float)
    if len(y) < bins:
        return None
    order = np.argsort(np.asarray(proba, dtype=float), kind="stable")
    groups = np.array_split(order, bins)
    return float(np.mean([abs(y[g].mean() - proba[g].mean()) for g in groups]))


def ece_interval(
    y: np.ndarray,
    proba: np.ndarray,
    confidence: float = 0.95,
    resamples: int = 200,
    bins: int = 10,
    seed: int = 0,
) -> tuple[float, float] | None:
    """A bootstrap interval of the expected calibration error (seeded).

    Rows are sorted by prediction once; each resample draws the rows with
    replacement (as counts per row) and cuts the drawn rows into ``bins``
    equal-size groups, as ``expected_calibration_error`` cuts the rows. Label noise alone
    gives a perfectly calibrated model an ECE above zero on a few thousand
    rows: the interval says how far the figure moves by chance.
    """
    y = np.asarray(y, dtype=float)
    proba = np.asarray(proba, dtype=float)
    if len(y) < bins:
        return None
    order = np.argsort(proba, kind="stable")
    y, proba = y[order], proba[order]
    rng = np.random.default_rng(seed)
    n = len(y)
    # fewer resamples for many rows (at least 50): their ECE moves little by chance
    resamples = max(min(resamples, resamples * 20_000 // n), 50)
    values = np.empty(resamples)
    for b in range(resamples):
        weights = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
        total = float(n)
        cumulative = np.cumsum(weights) - weights / 2
        group = np.minimum((cumulative / total * bins).astype(int), bins - 1)
        count = np.bincount(group, weights=weights, minlength=bins)
        observed = np.bincount(group, weights=weights * y, minlength=bins)
        predicted = np.bincount(group, weights=weights * proba, minlength=bins)
        filled = count > 0
        values[b] = np.mean(
            np.abs(observed[filled] - predicted[filled]) / count[filled]
        )
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def classification_metrics(
    y: np.ndarray, proba: np.ndarray, threshold: float
) -> dict[str, float | None]:
    """Ranking, probability and thresholded metrics of churn predictions."""
    y = np.asarray(y, dtype=int)
    proba = np.asarray(proba, dtype=float)
    if len(y) == 0:
        raise ValueError("no labelled subscriptions to score: check the window's dates")
    both = _both_classes(y)
    predicted = (proba >= threshold).astype(int)
    # one confusion matrix for the three thresholded metrics
    precision, recall, f1, _ = precision_recall_fscore_support(
        y, predicted, average="binary", zero_division=0
    )
    return {
        "roc_auc": roc_auc_or_none(y, proba),
        "pr_auc": float(average_precision_score(y, proba)) if both else None,
        "log_loss": float(log_loss(y, proba, labels=[0, 1])),
        "brier": float(brier_score_loss(y, proba)),
        "ece": expected_calibration_error(y, proba),
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "threshold": float(threshold),
        "lift_at_10pct": lift_at(y, proba, 0.1),
        "n_scored": len(y),
        "base_rate": float(y.mean()),
    }


def _fmt(value: float | None) -> str:
    return "n/a (one class only)" if value is None else f"{value:.4f}"


def score_report(
    title: str, game: str, metrics: Mapping, new_character: Mapping
) -> str:
    """The text score report, keeping the original project's two headline lines."""
    lines = [
        f"{title} - {game}",
        f"General score: {_fmt(metrics['roc_auc'])} on {metrics['n_scored']} subscriptions.",
        f"New character score: {_fmt(new_character['roc_auc'])} on {new_character['n_scored']} subscriptions.",
        f"Left out, without a label: {metrics.get('n_unsettled_excluded', 0)} not settled yet, "
        f"{metrics.get('n_no_term_excluded', 0)} without a term.",
        "",
    ]
    lines += [f"{key}: {value}" for key, value in metrics.items()]
    return "\n".join(lines) + "\n"


def _figure(width: float, height: float) -> Figure:
    """A figure without pyplot's state; matplotlib is imported by the first one drawn.

    (Training draws none: its pipeline starts 0.25 s sooner without it.)
    """
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


def roc_figure(y: np.ndarray, proba: np.ndarray, title: str) -> Figure:
    """ROC curve with the chance diagonal."""
    fig = _figure(5, 5)
    ax = fig.subplots()
    if _both_classes(y):
        fpr, tpr, _ = roc_curve(y, proba)
        ax.plot(fpr, tpr, label=f"model (AUC {roc_auc_score(y, proba):.3f})")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
    ax.set(xlabel="False positive rate", ylabel="True positive rate", title=title)
    ax.legend(loc="lower right")
    return fig


def pr_figure(y: np.ndarray, proba: np.ndarray, title: str) -> Figure:
    """Precision-recall curve with the base rate."""
    fig = _figure(5, 5)
    ax = fig.subplots()
    if _both_classes(y):
        precision, recall, _ = precision_recall_curve(y, proba)
        ax.plot(
            recall,
            precision,
            label=f"model (AP {average_precision_score(y, proba):.3f})",
        )
    ax.axhline(float(np.mean(y)), linestyle="--", color="grey", label="base rate")
    ax.set(xlabel="Recall", ylabel="Precision", title=title, ylim=(0, 1.02))
    ax.legend(loc="upper right")
    return fig


def calibration_figure(y: np.ndarray, proba: np.ndarray, title: str) -> Figure:
    """Observed churn rate against predicted probability, by decile of prediction."""
    fig = _figure(5, 5)
    ax = fig.subplots()
    observed, predicted = calibration_curve(y, proba, n_bins=10, strategy="quantile")
    ax.plot(predicted, observed, marker="o", label="model")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    ax.set(
        xlabel="Predicted churn probability", ylabel="Observed churn rate", title=title
    )
    ax.legend(loc="upper left")
    return fig


def importance_figure(importance: pd.DataFrame, title: str, top: int = 20) -> Figure:
    """Horizontal bars of the ``top`` permutation importances (mean and std)."""
    shown = importance.nlargest(top, "importance_mean").iloc[::-1]
    fig = _figure(7, max(3, 0.3 * len(shown) + 1))
    ax = fig.subplots()
    ax.barh(
        shown["feature"],
        shown["importance_mean"],
        xerr=shown["importance_std"],
        color="tab:blue",
    )
    ax.set(xlabel="Drop in ROC-AUC when shuffled", title=title)
    fig.tight_layout()
    return fig


def unlabelled_counts(rows: pd.DataFrame) -> dict[str, int]:
    """How many rows have no label, by reason (``label_state``): unsettled, no term."""
    missing = rows["sub_churn"].isna().to_numpy()
    if "label_state" not in rows:
        return {"n_unsettled_excluded": int(missing.sum()), "n_no_term_excluded": 0}
    state = rows["label_state"].astype(str).to_numpy()
    return {
        "n_unsettled_excluded": int((missing & (state != "no_term")).sum()),
        "n_no_term_excluded": int((missing & (state == "no_term")).sum()),
    }


def evaluate_predictions(
    predictions: pd.DataFrame, threshold: float
) -> tuple[dict, dict]:
    """Metrics over labelled rows of ``predictions`` (``sub_churn``, ``sub_churn_pred``).

    Rows without a label are left out and counted by reason
    (``n_unsettled_excluded``, ``n_no_term_excluded``). The second dict covers
    first subscriptions only.
    """
    labelled = predictions[predictions["sub_churn"].notna()]
    y = labelled["sub_churn"].to_numpy(dtype=int)
    proba = labelled["sub_churn_pred"].to_numpy(dtype=float)
    metrics = classification_metrics(y, proba, threshold)
    metrics.update(unlabelled_counts(predictions))
    first = (labelled["is_first_sub"] == 1).to_numpy()
    new_character = {
        "roc_auc": roc_auc_or_none(y[first], proba[first]),
        "n_scored": int(first.sum()),
    }
    metrics["new_character_roc_auc"] = new_character["roc_auc"]
    metrics["new_character_n_scored"] = new_character["n_scored"]
    return metrics, new_character


def oracle_roc_auc(predictions: pd.DataFrame, truth: pd.DataFrame) -> float | None:
    """ROC-AUC of the generator's true probabilities over the same labelled rows."""
    if truth.empty:
        return None
    labelled = predictions[predictions["sub_churn"].notna()][["sub_id", "sub_churn"]]
    joined = labelled.merge(
        truth[["sub_id", "churn_probability"]], on="sub_id", how="inner"
    )
    if len(joined) < len(labelled):
        return None  # the side file does not cover these rows (another data set)
    return roc_auc_or_none(
        joined["sub_churn"].to_numpy(dtype=int), joined["churn_probability"].to_numpy()
    )


def calibration_with_noise(
    predictions: pd.DataFrame, truth: pd.DataFrame
) -> dict[str, float | None]:
    """The labelled rows' ECE interval, and the ECE the true probabilities score there.

    On a synthetic game the generator's own probabilities are perfectly
    calibrated: their ECE on the same rows is the floor label noise sets.
    """
    labelled = predictions[predictions["sub_churn"].notna()]
    y = labelled["sub_churn"].to_numpy(dtype=int)
    interval = ece_interval(y, labelled["sub_churn_pred"].to_numpy(dtype=float))
    out: dict[str, float | None] = {
        "ece_low": interval[0] if interval else None,
        "ece_high": interval[1] if interval else None,
        "oracle_ece": None,
    }
    if not truth.empty:
        joined = labelled[["sub_id", "sub_churn"]].merge(
            truth[["sub_id", "churn_probability"]], on="sub_id", how="inner"
        )
        if len(joined) == len(labelled):
            out["oracle_ece"] = expected_calibration_error(
                joined["sub_churn"].to_numpy(dtype=int),
                joined["churn_probability"].to_numpy(dtype=float),
            )
    return out


def batch_metrics(
    batch_predictions: pd.DataFrame,
    labels: pd.DataFrame,
    subscription_features: pd.DataFrame,
    truth: pd.DataFrame,
    threshold: float,
) -> tuple[dict, dict]:
    """A batch's metrics over the subscriptions whose outcome is known now, and its new characters'.

    The batch scoring node and the replay (for every earlier batch whose
    labels settle) both score a batch with it.
    """
    joined = batch_predictions.merge(
        labels[["sub_id", "sub_churn", "label_state"]],
        on="sub_id",
        how="left",
        validate="one_to_one",
    ).merge(
        subscription_features[["sub_id", "is_first_sub"]],
        on="sub_id",
        how="left",
        validate="one_to_one",
    )
    metrics, new_character = evaluate_predictions(joined, threshold)
    metrics["oracle_roc_auc"] = oracle_roc_auc(joined, truth)
    metrics["n_predicted"] = len(batch_predictions)
    metrics["model_id"] = str(batch_predictions["model_id"].iloc[0])
    return metrics, new_character
