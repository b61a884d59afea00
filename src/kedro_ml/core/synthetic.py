"""Deterministic synthetic game data with a known churn signal.

``generate_raw_tables`` writes the four raw tables of the data contract
(characters, subscriptions, missed-payment runs, monthly currency) for any
number of characters and any month range, from a seed. Unlike random data,
churn is drawn from a documented function of facts visible at each
subscription's start, so a good model beats chance out of time and a model
quality check means something.

The world
---------
Characters are created at a constant rate, from ``months_before_first_month``
before the first month of data on, so the population the data shows is in a
steady state: with drift off, a window a year later looks like an earlier one.
Each character earns soft currency in play, receives currency from its
subscriptions, and spends part of what it holds every month, so balances
revert to levels set by the economy (``soft_earnings``, ``soft_spend_rate``,
``hard_spend_rate``) instead of growing. Its engagement wanders around its
own level (an AR(1) process), which moves its earnings. It subscribes up to
``max_subs_per_character`` times, and leaves the game some months after its
last subscription ends.

The tables cover the months ``first_month`` .. ``last_month``: a character
appears when it was active in them, with every subscription it ever held
(earlier ones start before ``first_month``, as in a subscription export),
and with currency rows for the months it was active.

The churn function
------------------
For subscription ``s`` of character ``c`` starting in month ``t``::

    z = base_logit
        + price_per_unit     * x_price          # log(price / sub_size), standardised
        + sub_type[type]                        # e.g. soft subscriptions churn more
        + play_trend         * x_trend          # soft balance trend, net of deliveries
        + character_age      * log1p(age_months)
        + mastered           * [class mastered before t]
        + repeat_subscriber  * [character held an earlier subscription]
        + noise ~ Normal(0, noise_sd)
    P(churn) = 1 / (1 + exp(-z))

where ``x_price = (log(price / sub_size) - log(reference_price_per_unit)) / 0.8``
and ``x_trend`` is the change of ``soft_balance`` over the three months before
``t`` (balance at ``t-1`` minus balance at ``t-4``) minus the ``sub_soft``
received in those months, divided by ``3 * soft_earnings``, clipped to
[-3, 3], and 0 where that history is not in the data. Every term is
computable from rows dated before ``t`` plus static character attributes;
lifetime totals such as ``total_kills`` play no part (they are known only at
extraction). The coefficients live in ``parameters_synthesize.yml`` under
``churn``.

A churned subscription gets one run of three missed months starting in a
uniformly drawn month of its term (cancelling it); a kept one gets, with
probability ``short_miss_rate``, one run of one or two missed months. Runs are
cut at the last month of data, exactly as an extraction would see them.

The true ``P(churn)`` of every subscription is returned as a side table, so
reports can compare a model's ranking with the best achievable one; features
and training never read it.

Drift: from ``drift.from_month`` on, prices are multiplied by
``price_multiplier``, play earnings by ``play_earnings_multiplier`` and the
sub type mix may change, so monitoring has something to find. Those shifts
move the inputs only: churn stays the same function of them, so a
well-specified model keeps its ranking. ``drift.churn`` changes the function
itself for subscriptions starting from ``from_month`` (any coefficient of
``churn``; ``sub_type`` merges by type), which only a retrained model can learn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

_GENDERS = np.array(["M", "F", "N"])
_GENDER_P = np.array([0.48, 0.48, 0.04])
_PRICE_SCALE = 0.8  # spread of log(price per unit) in the default economy
_TREND_MONTHS = 3
_NEVER = -(10**6)


@dataclass(frozen=True)
class RawTables:
    """The generator's output: the four raw tables and the true churn probabilities."""

    characters: pd.DataFrame
    sub_data: pd.DataFrame
    sub_miss: pd.DataFrame
    character_currency: pd.DataFrame
    sub_churn_truth: pd.DataFrame


def _choice(rng: np.random.Generator, mix: dict, size: int) -> np.ndarray:
    """Draw ``size`` labels from a ``{label: weight}`` mix."""
    labels = np.array(list(mix.keys()))
    weights = np.array(list(mix.values()), dtype=float)
    return labels[rng.choice(len(labels), size=size, p=weights / weights.sum())]


def _month_dates(first_month: np.datetime64, month_idx: np.ndarray) -> np.ndarray:
    """First day of each month given as an offset from ``first_month``."""
    return (first_month + month_idx.astype("timedelta64[M]")).astype("datetime64[D]")


# The simulation keeps its monthly matrices month-major, (months, characters):
# each step of a loop over months reads and writes contiguous memory. A month
# as a column of a (characters, months) array touches a cache line per
# character: 2-3 s per pass over 1M characters, against ~0.1 s.


def _engagement(
    rng: np.random.Generator, n: int, months: int, persistence: float, sd: float
) -> np.ndarray:
    """Monthly engagement around each character's own level: a stationary AR(1), (months, n)."""
    # drawn character by character, as the seed's stream gives them
    shocks = rng.normal(0.0, 1.0, size=(n, months)).astype(np.float32).T.copy()
    out = np.empty((months, n), dtype=np.float32)
    out[0] = sd * shocks[0]
    innovation = sd * np.sqrt(1.0 - persistence**2)
    for k in range(1, months):  # a loop over months, vectorised over characters
        out[k] = persistence * out[k - 1] + innovation * shocks[k]
    return out


def _balances(start: np.ndarray, income: np.ndarray, spend_rate: float) -> np.ndarray:
    """Start-of-month balances: what was held plus the month's income, less what was spent.

    ``income`` is month-major, (months, n); so are the balances.
    """
    balance = np.empty(income.shape, dtype=np.float32)
    balance[0] = start
    keep = 1.0 - spend_rate
    for k in range(1, len(income)):
        balance[k] = (balance[k - 1] + income[k - 1]) * keep
    return balance


def _play_trend(
    soft: np.ndarray,
    sub_soft: np.ndarray,
    visible_from: np.ndarray,
    row: np.ndarray,
    start: np.ndarray,
    soft_earnings: float,
) -> np.ndarray:
    """Soft balance change over the 3 months before ``start``, net of deliveries, scaled.

    ``soft`` and ``sub_soft`` are month-major; ``row`` is each subscription's character.
    """
    lo = start - _TREND_MONTHS - 1
    has_history = lo >= visible_from[row]
    lo_c = np.clip(lo, 0, soft.shape[0] - 1)
    hi_c = np.clip(start - 1, 0, soft.shape[0] - 1)
    change = soft[hi_c, row] - soft[lo_c, row]
    # deliveries before each month, summed in float32 month by month, for the
    # characters of these subscriptions only (a character's sums are its own)
    cum = sub_soft[:, row].cumsum(axis=0)
    at = np.arange(len(row))

    def before(month: np.ndarray) -> np.ndarray:
        return np.where(month > 0, cum[np.maximum(month - 1, 0), at], 0).astype(
            np.float64
        )

    delivered = before(hi_c) - before(lo_c)
    trend = (change - delivered) / (_TREND_MONTHS * soft_earnings)
    return np.where(has_history, np.clip(trend, -3.0, 3.0), 0.0)


def generate_raw_tables(params: dict) -> RawTables:  # noqa: PLR0915 - one linear recipe
    """Generate the four raw tables and the true churn probabilities from ``params``."""
    rng = np.random.default_rng(int(params["seed"]))
    n = int(params["n_characters"])
    eco = params["economy"]
    churn = params["churn"]
    drift = params.get("drift") or {}

    first_month = np.datetime64(str(params["first_month"])[:7], "M")
    last_month = np.datetime64(str(params["last_month"])[:7], "M")
    n_months = int((last_month - first_month).astype(int)) + 1
    if n < 1 or n_months < 2:
        raise ValueError(
            "synthesize: need n_characters >= 1 and last_month at least one month "
            f"after first_month (got n_characters={n}, {first_month}..{last_month})"
        )
    # the simulation starts `burn_in` months before the data, on month index 0
    burn_in = int(eco["months_before_first_month"])
    origin = first_month - np.timedelta64(burn_in, "M")
    total = burn_in + n_months
    drift_on = bool(drift.get("enabled"))
    drift_idx = (
        int((np.datetime64(str(drift["from_month"])[:7], "M") - origin).astype(int))
        if drift_on
        else total
    )

    # --- characters, created at a constant rate, up to the last month --------------
    # (none in the last months would leave the final batches without newcomers:
    # a drift that monitoring would rightly flag)
    created = np.sort(rng.integers(0, total, size=n))
    level = rng.normal(0.0, 1.0, size=n)  # a character's own engagement level
    lifetime = total - created
    deaths = rng.poisson(3.0 * lifetime) + 1
    kd = np.exp(0.4 * rng.normal(0.0, 1.0, size=n))
    kills = np.round(deaths * kd * rng.gamma(20.0, 1 / 20.0, size=n)).astype(np.int64)
    masters_ever = rng.random(n) < 1 / (
        1 + np.exp(-(np.log(eco["mastery_odds"]) + level))
    )
    mastery_month = created + rng.geometric(eco["mastery_monthly_rate"], size=n)
    mastery_month = np.where(
        masters_ever & (mastery_month < total), mastery_month, _NEVER
    )
    attributes = {
        "gender": _GENDERS[rng.choice(3, size=n, p=_GENDER_P)],
        "race": _choice(rng, eco["race_mix"], n),
        "class": _choice(rng, eco["class_mix"], n),
        "territory": rng.integers(1, int(eco["n_territories"]) + 1, size=n),
        "creation_day": rng.integers(0, 28, size=n),
        "mastery_day": rng.integers(0, 28, size=n),
    }

    # --- subscriptions (sequential per character) --------------------------------
    max_subs = int(eco["max_subs_per_character"])
    n_subs = np.clip(
        1 + rng.poisson(float(eco["subs_per_character"]) - 1.0, size=n), 1, max_subs
    )
    term_choices = np.array(list(eco["sub_months_mix"].keys()), dtype=np.int64)
    term_p = np.array(list(eco["sub_months_mix"].values()), dtype=float)
    terms = term_choices[
        rng.choice(len(term_choices), size=(n, max_subs), p=term_p / term_p.sum())
    ]
    gaps = rng.geometric(eco["resubscribe_monthly_rate"], size=(n, max_subs))
    first_start = created + rng.geometric(0.5, size=n) - 1
    offsets = np.concatenate(
        [np.zeros((n, 1), dtype=np.int64), np.cumsum(terms + gaps, axis=1)[:, :-1]],
        axis=1,
    )
    starts = first_start[:, None] + offsets
    rank = np.broadcast_to(np.arange(max_subs), (n, max_subs))
    keep = (rank < n_subs[:, None]) & (starts < total)
    s_row, s_rank = np.nonzero(keep)  # row-major: ordered by character, then rank
    s_start = starts[s_row, s_rank]
    s_term = terms[s_row, s_rank]
    m = len(s_row)
    last_end = np.zeros(n, dtype=np.int64)
    np.maximum.at(last_end, s_row, s_start + s_term)
    # a character plays on for some months after its last subscription, then leaves
    left = np.minimum(
        last_end + rng.geometric(eco["leave_monthly_rate"], size=n), total
    )

    after_drift = s_start >= drift_idx
    s_type = _choice(rng, eco["sub_type_mix"], m)
    if drift_on and drift.get("sub_type_mix"):
        s_type = np.where(after_drift, _choice(rng, drift["sub_type_mix"], m), s_type)
    sizes = np.array(eco["sub_sizes"], dtype=np.int64)
    s_size = sizes[rng.integers(0, len(sizes), size=m)]
    levels = np.array(eco["price_levels"], dtype=float)
    s_price = levels[rng.integers(0, len(levels), size=m)]
    if drift_on:
        s_price = np.where(
            after_drift, s_price * float(drift["price_multiplier"]), s_price
        )
    s_price = np.round(s_price, 2)
    hard_share = np.select(
        [s_type == "hard", s_type == "soft"], [1.0, 0.0], default=0.5
    )
    soft_per_hard = float(eco["soft_per_hard"])
    s_hard = np.round(s_size * hard_share, 2)
    s_soft = np.round(s_size * (1.0 - hard_share) * soft_per_hard, 2)

    # --- play economy: earnings around each character's engagement ---------------
    soft_earnings = float(eco["soft_earnings"])
    engagement = _engagement(
        rng,
        n,
        total,
        float(eco["engagement_persistence"]),
        float(eco["engagement_sd"]),
    )
    earnings = soft_earnings * np.exp(
        0.5 * level[None, :].astype(np.float32)
        + engagement
        + rng.normal(0.0, 0.3, size=(n, total)).astype(np.float32).T
    )
    if drift_on:
        earnings[drift_idx:] *= float(drift["play_earnings_multiplier"])
    soft_rate = float(eco["soft_spend_rate"])
    hard_rate = float(eco["hard_spend_rate"])
    soft_start = soft_earnings * (1 - soft_rate) / soft_rate * rng.gamma(4.0, 0.25, n)
    hard_start = rng.gamma(2.0, 50.0, size=n)

    # --- churn, drawn rank by rank so earlier deliveries shape later trends ----
    sub_soft = np.zeros((total, n), dtype=np.float32)  # month-major, as earnings
    sub_hard = np.zeros((total, n), dtype=np.float32)
    s_proba = np.empty(m)
    s_run_start = np.full(m, -1, dtype=np.int64)
    s_run_len = np.zeros(m, dtype=np.int64)
    # the churn coefficients in force at each subscription's start
    change = {k: v for k, v in (drift.get("churn") or {}).items() if v is not None}
    after = {**churn, **change} if drift_on else dict(churn)
    after["sub_type"] = {**churn["sub_type"], **(change.get("sub_type") or {})}

    def coefficient(key: str) -> np.ndarray:
        return np.where(after_drift, float(after[key]), float(churn[key]))

    type_effect = np.where(
        after_drift,
        pd.Series(s_type).map(after["sub_type"]).to_numpy(dtype=float),
        pd.Series(s_type).map(churn["sub_type"]).to_numpy(dtype=float),
    )
    beta = {
        key: coefficient(key)
        for key in (
            "base_logit",
            "price_per_unit",
            "play_trend",
            "character_age",
            "mastered",
            "repeat_subscriber",
        )
    }
    mastered = (mastery_month[s_row] >= 0) & (mastery_month[s_row] < s_start)
    age = s_start - created[s_row]
    x_price = (
        np.log(s_price / s_size) - np.log(float(eco["reference_price_per_unit"]))
    ) / _PRICE_SCALE
    noise = rng.normal(0.0, float(churn["noise_sd"]), size=m)
    churn_u = rng.random(m)
    run_offset_u = rng.random(m)
    short_u = rng.random(m)
    short_len = rng.integers(1, 3, size=m)
    # the trend is visible only from the first month of data
    visible_from = np.maximum(created, burn_in)
    for r in range(max_subs):
        idx = np.flatnonzero(s_rank == r)
        if idx.size == 0:
            break
        soft = _balances(soft_start, earnings + sub_soft, soft_rate)
        trend = _play_trend(
            soft, sub_soft, visible_from, s_row[idx], s_start[idx], soft_earnings
        )
        z = (
            beta["base_logit"][idx]
            + beta["price_per_unit"][idx] * x_price[idx]
            + type_effect[idx]
            + beta["play_trend"][idx] * trend
            + beta["character_age"][idx] * np.log1p(age[idx])
            + beta["mastered"][idx] * mastered[idx]
            + beta["repeat_subscriber"][idx] * (r > 0)
            + noise[idx]
        )
        p = 1.0 / (1.0 + np.exp(-z))
        s_proba[idx] = p
        churned = churn_u[idx] < p
        offset = np.floor(run_offset_u[idx] * s_term[idx]).astype(np.int64)
        short = ~churned & (short_u[idx] < float(eco["short_miss_rate"]))
        s_run_start[idx] = np.where(churned | short, s_start[idx] + offset, -1)
        s_run_len[idx] = np.where(churned, 3, np.where(short, short_len[idx], 0))

        # deliveries, month by month: the paid months of each term, none during
        # a run or after a cancellation; one subscription per character and
        # rank, so each month's characters are distinct
        chars, first, term = s_row[idx], s_start[idx], s_term[idx]
        run_rel, run_len = s_run_start[idx] - first, s_run_len[idx]
        soft_r, hard_r = s_soft[idx].astype(np.float32), s_hard[idx].astype(np.float32)
        for k in range(int(first.min()), min(total, int((first + term).max()))):
            rel = k - first
            in_run = (rel >= run_rel) & (rel < run_rel + run_len) & (run_len > 0)
            cancelled = churned & (rel >= run_rel)
            paid = np.flatnonzero((rel >= 0) & (rel < term) & ~in_run & ~cancelled)
            sub_soft[k, chars[paid]] += soft_r[paid]
            sub_hard[k, chars[paid]] += hard_r[paid]

    soft = _balances(soft_start, earnings + sub_soft, soft_rate)
    hard = _balances(hard_start, sub_hard, hard_rate)

    # --- the export: what was active in first_month .. last_month ----------------
    active = left > burn_in
    keep_char = np.flatnonzero(active)
    char_id = np.zeros(n, dtype=np.int64)
    char_id[keep_char] = np.arange(1, len(keep_char) + 1)
    mastery_known = mastery_month[keep_char] < total
    characters = pd.DataFrame(
        {
            "char_id": char_id[keep_char],
            "gender": attributes["gender"][keep_char],
            "race": attributes["race"][keep_char],
            "class": attributes["class"][keep_char],
            "territory": attributes["territory"][keep_char],
            "creation_date": _month_dates(origin, created[keep_char])
            + attributes["creation_day"][keep_char].astype("timedelta64[D]"),
            "class_mastery_date": np.where(
                mastery_known & (mastery_month[keep_char] > _NEVER),
                _month_dates(origin, np.maximum(mastery_month[keep_char], 0))
                + attributes["mastery_day"][keep_char].astype("timedelta64[D]"),
                np.datetime64("NaT"),
            ),
            "total_kills": kills[keep_char],
            "total_deaths": deaths[keep_char],
        },
        copy=False,  # fresh arrays, here and below: not stacked into a copy per dtype
    )

    s_keep = active[s_row]
    sub_id = np.zeros(m, dtype=np.int64)
    sub_id[s_keep] = np.arange(1, int(s_keep.sum()) + 1)
    sub_data = pd.DataFrame(
        {
            "sub_id": sub_id[s_keep],
            "char_id": char_id[s_row[s_keep]],
            "sub_start_date": _month_dates(origin, s_start[s_keep]),
            "sub_type": s_type[s_keep],
            "sub_months": s_term[s_keep],
            "sub_size": s_size[s_keep],
            "price": s_price[s_keep],
            "num_hard_currency": s_hard[s_keep],
            "num_soft_currency": s_soft[s_keep],
        },
        copy=False,
    )

    # runs after the data are unseen; a run is cut at the last month of data
    has_run = s_keep & (s_run_len > 0) & (s_run_start < total)
    run_end = np.minimum(s_run_start + s_run_len - 1, total - 1)
    sub_miss = pd.DataFrame(
        {
            "sub_id": sub_id[has_run],
            "start_date": _month_dates(origin, s_run_start[has_run]),
            "end_date": _month_dates(origin, run_end[has_run]),
        },
        copy=False,
    )

    # --- currency rows: the months of data in which the character was active ----
    month_grid = np.arange(total)
    in_data = (month_grid[None, :] >= np.maximum(created, burn_in)[:, None]) & (
        month_grid[None, :] < left[:, None]
    )
    c_row, c_month = np.nonzero(in_data)
    null_rate = float(eco["balance_null_rate"])
    values = {}
    for name, matrix in (
        ("hard_balance", hard),
        ("soft_balance", soft),
        ("sub_hard", sub_hard),
        ("sub_soft", sub_soft),
    ):
        # currency comes in whole units
        column = np.round(matrix[c_month, c_row].astype(np.float64))
        values[name] = np.where(rng.random(column.size) < null_rate, np.nan, column)
    character_currency = pd.DataFrame(
        {
            "char_id": char_id[c_row],
            "date": _month_dates(origin, c_month),
            **values,
        },
        copy=False,
    )

    truth = pd.DataFrame(
        {"sub_id": sub_id[s_keep], "churn_probability": np.round(s_proba[s_keep], 6)},
        copy=False,
    )
    return RawTables(characters, sub_data, sub_miss, character_currency, truth)
