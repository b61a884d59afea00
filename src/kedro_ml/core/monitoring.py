"""Drift between the training reference window and a batch window.

For every model input and for the prediction: the population stability index
(PSI, on the reference's deciles, or categories) and, for numeric inputs, the
two-sample Kolmogorov-Smirnov statistic. A feature has drifted when its PSI
exceeds ``psi_threshold`` or its KS statistic exceeds ``ks_threshold``.
Retraining is recommended (the classic rule) when the share of drifted
features exceeds ``drift_share_threshold``, when the prediction drifted, or
when any of ``key_features`` drifted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy.stats import ks_2samp

_EPS = 1e-4


def _psi_from_counts(ref: np.ndarray, cur: np.ndarray) -> float:
    ref_share = np.maximum(ref / max(ref.sum(), 1), _EPS)
    cur_share = np.maximum(cur / max(cur.sum(), 1), _EPS)
    return float(np.sum((cur_share - ref_share) * np.log(cur_share / ref_share)))


def psi_numeric(reference: np.ndarray, current: np.ndarray, bins: int = 10) -> float:
    """PSI over the reference's quantile bins; missing values form a bin of their own."""
    ref, cur = reference[~np.isnan(reference)], current[~np.isnan(current)]
    if len(ref) == 0 or len(cur) == 0:
        return 0.0
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)[1:-1]))
    ref_counts = np.bincount(
        np.searchsorted(edges, ref, side="right"), minlength=len(edges) + 1
    )
    cur_counts = np.bincount(
        np.searchsorted(edges, cur, side="right"), minlength=len(edges) + 1
    )
    ref_counts = np.append(ref_counts, np.isnan(reference).sum())
    cur_counts = np.append(cur_counts, np.isnan(current).sum())
    return _psi_from_counts(ref_counts, cur_counts)


def psi_categorical(reference: pd.Series, current: pd.Series) -> float:
    """PSI over the categories seen in either sample."""
    ref = reference.astype("str").value_counts()
    cur = current.astype("str").value_counts()
    categories = ref.index.union(cur.index)
    return _psi_from_counts(
        ref.reindex(categories, fill_value=0).to_numpy(),
        cur.reindex(categories, fill_value=0).to_numpy(),
    )


def feature_drift(reference: pd.Series, current: pd.Series, rule: dict) -> dict:
    """PSI (and KS for numbers) of one feature, with the verdict."""
    numeric = pd.api.types.is_numeric_dtype(
        reference
    ) and pd.api.types.is_numeric_dtype(current)
    entry: dict = {"kind": "numeric" if numeric else "categorical"}
    if numeric:
        ref, cur = reference.to_numpy(dtype=float), current.to_numpy(dtype=float)
        entry["psi"] = psi_numeric(ref, cur)
        ref_v, cur_v = ref[~np.isnan(ref)], cur[~np.isnan(cur)]
        ks = ks_2samp(ref_v, cur_v) if len(ref_v) and len(cur_v) else None
        entry["ks_statistic"] = float(ks.statistic) if ks is not None else 0.0
        entry["ks_pvalue"] = float(ks.pvalue) if ks is not None else 1.0
    else:
        entry["psi"] = psi_categorical(reference, current)
    entry["psi_threshold"] = rule["psi_threshold"]
    entry["ks_threshold"] = rule["ks_threshold"] if numeric else None
    entry["drifted"] = bool(
        entry["psi"] > rule["psi_threshold"]
        or (numeric and entry["ks_statistic"] > rule["ks_threshold"])
    )
    return entry


def drift_report(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    features: list[str],
    reference_pred: np.ndarray,
    current_pred: np.ndarray,
    rule: dict,
) -> dict:
    """Per-feature drift, prediction drift and the retraining recommendation."""
    per_feature = {
        name: feature_drift(reference[name], current[name], rule) for name in features
    }
    prediction = feature_drift(pd.Series(reference_pred), pd.Series(current_pred), rule)
    drifted = sorted(name for name, entry in per_feature.items() if entry["drifted"])
    share = len(drifted) / max(len(features), 1)
    key_drifted = sorted(set(rule.get("key_features") or []) & set(drifted))
    reasons = []
    if share > rule["drift_share_threshold"]:
        reasons.append(
            f"{share:.0%} of features drifted (threshold {rule['drift_share_threshold']:.0%})"
        )
    if prediction["drifted"]:
        reasons.append(f"the prediction drifted (PSI {prediction['psi']:.3f})")
    if key_drifted:
        reasons.append(f"key features drifted: {', '.join(key_drifted)}")
    return {
        "n_reference": len(reference),
        "n_current": len(current),
        "features": per_feature,
        "prediction": prediction,
        "drifted_features": drifted,
        "share_drifted": share,
        "retrain_recommended": bool(reasons),
        "reasons": reasons or ["no retraining rule fired"],
        "rule": dict(rule),
    }


def drift_figure(
    report: dict, reference: pd.DataFrame, current: pd.DataFrame, top: int = 6
) -> Figure:
    """Histograms of the most drifted features, reference against batch."""
    ranked = sorted(report["features"].items(), key=lambda item: -item[1]["psi"])[:top]
    fig = Figure(figsize=(12, 2.6 * ((len(ranked) + 2) // 3)))
    axes = fig.subplots((len(ranked) + 2) // 3, 3, squeeze=False).ravel()
    for ax, (name, entry) in zip(axes, ranked, strict=False):
        if entry["kind"] == "numeric":
            ref = reference[name].dropna().to_numpy(dtype=float)
            cur = current[name].dropna().to_numpy(dtype=float)
            both = np.concatenate([ref, cur]) if len(ref) + len(cur) else np.zeros(1)
            bins = np.histogram_bin_edges(both, bins=30)
            ax.hist(ref, bins=bins, density=True, alpha=0.5, label="training reference")
            ax.hist(cur, bins=bins, density=True, alpha=0.5, label="batch")
        else:
            shares = pd.DataFrame(
                {
                    "training reference": reference[name]
                    .astype(str)
                    .value_counts(normalize=True),
                    "batch": current[name].astype(str).value_counts(normalize=True),
                }
            ).fillna(0)
            shares.plot.bar(ax=ax, rot=0, legend=False)
        flag = "DRIFTED" if entry["drifted"] else "stable"
        ax.set_title(f"{name}: PSI {entry['psi']:.2f} ({flag})", fontsize=9)
    for ax in axes[len(ranked) :]:
        ax.set_visible(False)
    if ranked:
        axes[0].legend(fontsize=8)
    verdict = (
        "retraining recommended"
        if report["retrain_recommended"]
        else "no retraining needed"
    )
    fig.suptitle(
        f"Drift, batch vs training window: {report['share_drifted']:.0%} of features drifted; {verdict}"
    )
    fig.tight_layout()
    return fig


class DriftReportError(ValueError):
    """A drift report that cannot be acted upon."""


def retraining_decision(drift_report: dict) -> dict:
    """Whether to retrain, and why, from a drift report's recommendation."""
    if not isinstance(drift_report, dict) or not isinstance(
        drift_report.get("retrain_recommended"), bool
    ):
        raise DriftReportError(
            "the drift report has no true/false 'retrain_recommended': it was not "
            "written by sub_churn_monitor; run sub_churn_batch_score to write a new one"
        )
    return {
        "retrain": drift_report["retrain_recommended"],
        "reasons": list(drift_report.get("reasons") or []),
        "drifted_features": list(drift_report.get("drifted_features") or []),
        "share_drifted": drift_report.get("share_drifted"),
        "prediction_drifted": bool(
            (drift_report.get("prediction") or {}).get("drifted")
        ),
        "report_model_id": drift_report.get("model_id"),
    }
