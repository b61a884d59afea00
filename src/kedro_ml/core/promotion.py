"""Promotion beyond the noise: is a candidate's ROC-AUC really better than the champion's?

Both models score the same rows, so their ROC-AUCs are correlated; the
difference has a much smaller sampling error than either figure. DeLong's
method (DeLong, DeLong and Clarke-Pearson, 1988; Sun and Xu's fast
algorithm, 2014) gives the variance of that paired difference from the
models' placement values, in O(n log n) and without resampling, so it is
exact to repeat and cheap at any size. The candidate is promoted only when
the lower end of the two-sided ``confidence`` interval of the difference is
above ``min_gain``.

The rows compared must stand for the score window: labels settle sooner for
short terms, so the settled rows of a recent window are mostly one-month
subscriptions. ``term_weights`` weights each settled row so that each term
(``sub_months``) counts as much as it does in the whole window, and says how
much of the window no settled row can stand for (a term none of whose rows has
settled yet); the decision refuses to promote on rows that stand for less than
``min_represented_share`` of it. The weighted placements follow DeLong's
method with weights (each positive and negative counted by its weight; the
variance from their weighted spread over Kish's effective sizes); with equal
weights they are DeLong's own.

Every decision states its interval's width and the test's power: the chance
that a candidate truly better by ``effect_of_interest`` would have been
promoted on these rows (normal approximation, the same standard error).
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np


def _weighted_placements(
    scores: np.ndarray, y: np.ndarray, weights: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """Weighted ROC-AUC and placement values of positives and negatives (ties count half).

    A positive's placement is the weighted share of negatives it outranks; a
    negative's, the weighted share of positives above it.
    """
    positive, negative = scores[y == 1], scores[y == 0]
    w_pos, w_neg = weights[y == 1], weights[y == 0]
    order_neg = np.argsort(negative, kind="stable")
    sorted_neg = negative[order_neg]
    cum_neg = np.concatenate([[0.0], np.cumsum(w_neg[order_neg])])
    below = cum_neg[np.searchsorted(sorted_neg, positive, side="left")]
    upto = cum_neg[np.searchsorted(sorted_neg, positive, side="right")]
    total_neg = cum_neg[-1]
    v_positive = (below + 0.5 * (upto - below)) / total_neg
    order_pos = np.argsort(positive, kind="stable")
    sorted_pos = positive[order_pos]
    cum_pos = np.concatenate([[0.0], np.cumsum(w_pos[order_pos])])
    total_pos = cum_pos[-1]
    above = total_pos - cum_pos[np.searchsorted(sorted_pos, negative, side="right")]
    ties = (
        cum_pos[np.searchsorted(sorted_pos, negative, side="right")]
        - cum_pos[np.searchsorted(sorted_pos, negative, side="left")]
    )
    v_negative = (above + 0.5 * ties) / total_pos
    auc = float(np.dot(w_pos, v_positive) / total_pos)
    return auc, v_positive, v_negative


def _spread(difference: np.ndarray, weights: np.ndarray) -> float:
    """Variance of a weighted mean of ``difference`` (reliability weights, Kish's size)."""
    total = weights.sum()
    squares = float(np.dot(weights, weights))
    if len(difference) < 2 or total * total <= squares:
        return 0.0
    mean = np.dot(weights, difference) / total
    variance = np.dot(weights, (difference - mean) ** 2) / (total - squares / total)
    return float(variance) * squares / (total * total)


def paired_auc_difference(
    y: np.ndarray,
    candidate: np.ndarray,
    champion: np.ndarray,
    confidence: float = 0.95,
    weights: np.ndarray | None = None,
) -> dict[str, float]:
    """The candidate's ROC-AUC minus the champion's on the same rows, with its interval.

    ``weights`` (one per row, positive) make the rows stand for another mix
    (``term_weights``); without them every row counts once.
    """
    y = np.asarray(y, dtype=int)
    if not (np.any(y == 1) and np.any(y == 0)):
        raise ValueError("the scored rows hold one class only: no ROC-AUC to compare")
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    if len(w) != len(y) or not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise ValueError("weights must be one positive finite number per row")
    auc_c, pos_c, neg_c = _weighted_placements(np.asarray(candidate, float), y, w)
    auc_h, pos_h, neg_h = _weighted_placements(np.asarray(champion, float), y, w)
    variance = _spread(pos_c - pos_h, w[y == 1]) + _spread(neg_c - neg_h, w[y == 0])
    difference = auc_c - auc_h
    se = math.sqrt(max(variance, 0.0))
    half_width = NormalDist().inv_cdf(0.5 + confidence / 2) * se
    effective = float(w.sum() ** 2 / np.dot(w, w))
    return {
        "candidate_roc_auc": auc_c,
        "champion_roc_auc": auc_h,
        "roc_auc_difference": difference,
        "difference_low": difference - half_width,
        "difference_high": difference + half_width,
        "difference_se": se,
        "interval_width": 2 * half_width,
        "confidence": confidence,
        "n_rows": int(len(y)),
        "effective_rows": round(effective, 1),
    }


def auc_interval(
    y: np.ndarray, scores: np.ndarray, confidence: float = 0.95
) -> tuple[float, float, float]:
    """ROC-AUC with its DeLong interval on these rows: (auc, low, high)."""
    y = np.asarray(y, dtype=int)
    if not (np.any(y == 1) and np.any(y == 0)):
        raise ValueError("the scored rows hold one class only: no ROC-AUC")
    w = np.ones(len(y))
    auc, pos, neg = _weighted_placements(np.asarray(scores, float), y, w)
    se = math.sqrt(max(_spread(pos, w[y == 1]) + _spread(neg, w[y == 0]), 0.0))
    half_width = NormalDist().inv_cdf(0.5 + confidence / 2) * se
    return auc, auc - half_width, auc + half_width


def term_weights(
    window_terms: np.ndarray, settled_terms: np.ndarray
) -> tuple[np.ndarray, float, dict[int, float]]:
    """Weights for the settled rows so that each term counts as in the whole window.

    Returns the weights (mean 1 over the settled rows), the share of the
    window the settled rows stand for, and the share of each term none of
    whose rows has settled.
    """
    window_terms = np.asarray(window_terms)
    settled_terms = np.asarray(settled_terms)
    if len(window_terms) == 0 or len(settled_terms) == 0:
        return np.ones(len(settled_terms)), 0.0, {}
    terms, window_counts = np.unique(window_terms, return_counts=True)
    window_share = dict(
        zip(terms.tolist(), (window_counts / len(window_terms)).tolist(), strict=True)
    )
    kinds, settled_counts = np.unique(settled_terms, return_counts=True)
    settled_share = dict(
        zip(kinds.tolist(), (settled_counts / len(settled_terms)).tolist(), strict=True)
    )
    represented = sum(window_share.get(k, 0.0) for k in settled_share)
    raw = np.array(
        [window_share.get(k, 0.0) / settled_share[k] for k in settled_terms.tolist()]
    )
    weights = raw / raw.mean() if raw.mean() > 0 else np.ones(len(raw))
    missing = {
        int(k): share for k, share in window_share.items() if k not in settled_share
    }
    return weights, float(represented), missing


def power(se: float, confidence: float, min_gain: float, effect: float) -> float:
    """The chance the rule promotes a candidate truly better by ``effect`` (standard error ``se``)."""
    if se <= 0:
        return 1.0 if effect > min_gain else 0.0
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    return float(NormalDist().cdf((effect - min_gain) / se - z))


def detectable_gain(
    se: float, confidence: float, min_gain: float, chance: float = 0.8
) -> float:
    """The true gain the rule would promote with probability ``chance`` on these rows."""
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    return float(min_gain + (z + NormalDist().inv_cdf(chance)) * se)


def decide(
    candidate_roc_auc: float | None,
    comparison: dict | None,
    confidence: float,
    min_gain: float,
    min_represented_share: float = 0.0,
) -> tuple[bool, str]:
    """Whether the candidate replaces the champion, and why.

    ``comparison`` is ``paired_auc_difference`` of candidate and champion on
    the same rows (with ``represented_share``, the share of the score window
    those rows stand for), or None when there is no champion. The candidate
    wins when the rows stand for at least ``min_represented_share`` of the
    window and the lower end of the interval is above ``min_gain``.
    """
    if candidate_roc_auc is None:
        return (
            False,
            "the candidate has no ROC-AUC on the score window (one class only)",
        )
    if comparison is None:
        return True, "there is no champion yet"
    represented = comparison.get("represented_share", 1.0)
    if represented < min_represented_share:
        missing = comparison.get("unrepresented_terms") or {}
        terms = ", ".join(
            f"{term}-month terms ({share:.0%})"
            for term, share in sorted(missing.items(), key=lambda item: int(item[0]))
        )
        return (
            False,
            f"the settled rows stand for {represented:.0%} of the score window, below "
            f"promotion.min_represented_share {min_represented_share:.0%}"
            + (f" (no settled row yet of {terms})" if terms else "")
            + ": wait for the longer terms to settle, or score an older window",
        )
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
