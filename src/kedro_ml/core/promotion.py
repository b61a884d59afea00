"""Promotion beyond the noise: is a candidate's ROC-AUC really better than the champion's?

Both models score the same rows, so their ROC-AUCs are correlated; the
difference has a much smaller sampling error than either figure. DeLong's
method (DeLong, DeLong and Clarke-Pearson, 1988; Sun and Xu's fast
algorithm, 2014) gives the variance of that paired difference from the
models' placement values, in O(n log n) and without resampling, so it is
exact to repeat and cheap at any size. The candidate is promoted only when
the lower end of the two-sided ``confidence`` interval of the difference is
above ``min_gain``.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
from scipy.stats import rankdata


def _placements(
    y: np.ndarray, scores: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """ROC-AUC and the placement values of positives and negatives (ties count half)."""
    positive, negative = scores[y == 1], scores[y == 0]
    m, n = len(positive), len(negative)
    combined = rankdata(np.concatenate([positive, negative]))
    within_positive = rankdata(positive)
    within_negative = rankdata(negative)
    auc = (combined[:m].sum() - m * (m + 1) / 2) / (m * n)
    # share of negatives each positive outranks, and of positives each negative is below
    v_positive = (combined[:m] - within_positive) / n
    v_negative = 1.0 - (combined[m:] - within_negative) / m
    return float(auc), v_positive, v_negative


def paired_auc_difference(
    y: np.ndarray,
    candidate: np.ndarray,
    champion: np.ndarray,
    confidence: float = 0.95,
) -> dict[str, float]:
    """The candidate's ROC-AUC minus the champion's on the same rows, with its interval."""
    y = np.asarray(y, dtype=int)
    if not (np.any(y == 1) and np.any(y == 0)):
        raise ValueError("the scored rows hold one class only: no ROC-AUC to compare")
    auc_c, pos_c, neg_c = _placements(y, np.asarray(candidate, dtype=float))
    auc_h, pos_h, neg_h = _placements(y, np.asarray(champion, dtype=float))
    m, n = len(pos_c), len(neg_c)

    def paired_variance(a: np.ndarray, b: np.ndarray, size: int) -> float:
        if size < 2:
            return 0.0
        cov = np.cov(np.vstack([a, b]))
        return float(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]) / size

    variance = max(
        paired_variance(pos_c, pos_h, m) + paired_variance(neg_c, neg_h, n), 0.0
    )
    difference = auc_c - auc_h
    half_width = NormalDist().inv_cdf(0.5 + confidence / 2) * math.sqrt(variance)
    return {
        "candidate_roc_auc": auc_c,
        "champion_roc_auc": auc_h,
        "roc_auc_difference": difference,
        "difference_low": difference - half_width,
        "difference_high": difference + half_width,
        "difference_se": math.sqrt(variance),
        "confidence": confidence,
        "n_rows": int(len(y)),
    }


def decide(
    candidate_roc_auc: float | None,
    comparison: dict | None,
    confidence: float,
    min_gain: float,
) -> tuple[bool, str]:
    """Whether the candidate replaces the champion, and why.

    ``comparison`` is ``paired_auc_difference`` of candidate and champion on
    the same rows, or None when there is no champion. The candidate wins when
    the lower end of the interval is above ``min_gain``.
    """
    if candidate_roc_auc is None:
        return (
            False,
            "the candidate has no ROC-AUC on the score window (one class only)",
        )
    if comparison is None:
        return True, "there is no champion yet"
    low, high = comparison["difference_low"], comparison["difference_high"]
    interval = (
        f"difference {comparison['roc_auc_difference']:+.4f}, "
        f"{confidence:.0%} interval [{low:+.4f}, {high:+.4f}]"
    )
    if low > min_gain:
        return (
            True,
            f"the candidate beats the champion beyond noise ({interval} is above {min_gain})",
        )
    return (
        False,
        f"the candidate is not better beyond noise ({interval} does not clear {min_gain})",
    )


class NotTheScoredModelError(ValueError):
    """Promotion was asked to register a model other than the one whose scores it compared."""


def check_scored_candidate(model_id: str, scored_model_id: str | None) -> None:
    """Refuse to promote ``model_id`` unless it is the model the score window scored.

    The decision compares the scored candidate with the champion; the model
    to register is the newest local model version. A training run after the
    scoring (without scoring again) makes them differ: its model was never
    compared with anything.
    """
    if model_id != scored_model_id:
        raise NotTheScoredModelError(
            f"The newest trained model is {model_id}, but the scores promotion "
            f"compared are of model {scored_model_id}: a training run came after "
            "the scoring. Score the newest model first (kedro run -p "
            "sub_churn_score_from_raw scores and promotes it), or promote the "
            f"scored one by loading its version (--load-versions=sub_churn_model:<version of {scored_model_id}>)."
        )
