"""How often the promotion rule promotes a model that is not better, and how often a better one.

A stationary world, simulated: each month brings fresh settled rows; the
champion and the candidate score them with the same signal and their own
noise. With equal noise the candidate is no better (every promotion is a false
one); with less noise it is better by a known ROC-AUC gain. Each setting of
the rule (``confidence``, ``min_gain``) is run over 12 monthly tests, as a year
of a monthly loop: the share of tests that promote, and of years that promote
at least once. Decisions come from the project's own ``paired_auc_difference``
and ``decide``.

    .venv/bin/python benchmarks/promotion_rule.py [--years 400] [--seed 0]

Prints a Markdown table (kept in docs/promotion.md).
"""

from __future__ import annotations

import argparse

import numpy as np
from rich.console import Console

from kedro_ml.core.promotion import decide, paired_auc_difference

MONTHS = 12
console = Console(width=160, highlight=False)
NOISE = 0.8  # the champion's score noise: ROC-AUC about 0.78 on these rows


def _auc_of_noise(noise: float, rng: np.random.Generator, n: int = 400_000) -> float:
    from sklearn.metrics import roc_auc_score

    z = rng.standard_normal(n)
    y = rng.random(n) < 1 / (1 + np.exp(-(-1.0 + 1.5 * z)))
    return float(roc_auc_score(y, z + noise * rng.standard_normal(n)))


def _noise_for_gain(gain: float, rng: np.random.Generator) -> float:
    """The candidate's noise that makes it better than the champion by ``gain`` ROC-AUC."""
    target = _auc_of_noise(NOISE, rng) + gain
    low, high = 0.0, NOISE
    for _ in range(30):
        mid = (low + high) / 2
        if _auc_of_noise(mid, rng, 100_000) > target:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def promotion_rate(
    rows: int,
    candidate_noise: float,
    confidence: float,
    min_gain: float,
    years: int,
    rng: np.random.Generator,
) -> tuple[float, float]:
    """(share of monthly tests that promote, share of years with at least one promotion)."""
    promoted_tests = 0
    years_promoting = 0
    for _ in range(years):
        promoted_this_year = False
        for _ in range(MONTHS):
            z = rng.standard_normal(rows)
            y = (rng.random(rows) < 1 / (1 + np.exp(-(-1.0 + 1.5 * z)))).astype(int)
            champion = z + NOISE * rng.standard_normal(rows)
            candidate = z + candidate_noise * rng.standard_normal(rows)
            comparison = paired_auc_difference(y, candidate, champion, confidence)
            promote, _ = decide(1.0, comparison, confidence, min_gain)
            promoted_tests += promote
            promoted_this_year |= promote
        years_promoting += promoted_this_year
    return promoted_tests / (years * MONTHS), years_promoting / years


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--years", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    better = _noise_for_gain(0.02, rng)
    console.print(
        f"champion ROC-AUC {_auc_of_noise(NOISE, rng):.3f}; the better candidate "
        f"+{_auc_of_noise(better, rng) - _auc_of_noise(NOISE, rng):.3f}; "
        f"{args.years} simulated years of {MONTHS} monthly tests each\n"
    )
    console.print(
        "| settled rows per test | confidence | min_gain | not-better promoted, per test "
        "| years with a not-better promotion | +0.02 promoted, per test |"
    )
    console.print("|---:|---:|---:|---:|---:|---:|")
    for rows in (500, 1500, 4000):
        for confidence in (0.95, 0.99):
            for min_gain in (0.0, 0.005, 0.01):
                equal = promotion_rate(
                    rows, NOISE, confidence, min_gain, args.years, rng
                )
                gain = promotion_rate(
                    rows, better, confidence, min_gain, max(args.years // 4, 25), rng
                )
                console.print(
                    f"| {rows:,} | {confidence} | {min_gain} | {equal[0]:.1%} "
                    f"| {equal[1]:.0%} | {gain[0]:.0%} |"
                )
    expected = 1 - (1 - 0.025) ** MONTHS
    console.print(
        f"\n(by arithmetic: a 95 % interval whose lower end clears 0 promotes an equal "
        f"model in one test in 40, so {expected:.0%} of years of {MONTHS} tests)"
    )


if __name__ == "__main__":
    main()
