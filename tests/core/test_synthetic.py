"""The synthetic data generator: determinism, the data contract and a real signal."""

from __future__ import annotations

import copy
import hashlib

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp
from sklearn.metrics import roc_auc_score

from kedro_ml.core.synthetic import generate_raw_tables
from kedro_ml.core.validation import (
    SCHEMAS,
    check_date_order,
    check_foreign_keys,
    validate_table,
)
from kedro_ml.datasets.arrow_csv import ArrowCSVDataset
from tests.conftest import PROJECT_ROOT, load_parameters

TABLES = ("characters", "sub_data", "sub_miss", "character_currency", "sub_churn_truth")


def _small(params: dict, **changes) -> dict:
    out = copy.deepcopy(params)
    out.update({"n_characters": 800, **changes})
    return out


def _digest(tables) -> dict[str, str]:
    return {
        name: hashlib.sha256(
            getattr(tables, name).to_csv(index=False, date_format="%Y-%m-%d").encode()
        ).hexdigest()
        for name in TABLES
    }


def _labels(tables) -> pd.Series:
    """1 where a subscription has a run of 3 or more missed months, per sub_id."""
    miss = tables.sub_miss
    months = (
        (miss["end_date"].dt.year - miss["start_date"].dt.year) * 12
        + (miss["end_date"].dt.month - miss["start_date"].dt.month)
        + 1
    )
    churned = set(miss.loc[months >= 3, "sub_id"])
    return tables.sub_data["sub_id"].isin(churned).astype(int)


def test_same_seed_gives_identical_bytes(synthesize_params):
    params = _small(synthesize_params)
    assert _digest(generate_raw_tables(params)) == _digest(generate_raw_tables(params))


def test_other_seed_gives_other_bytes(synthesize_params):
    first = _digest(generate_raw_tables(_small(synthesize_params, seed=1)))
    second = _digest(generate_raw_tables(_small(synthesize_params, seed=2)))
    assert all(first[name] != second[name] for name in TABLES)


@pytest.fixture(scope="module")
def default_tables():
    return generate_raw_tables(load_parameters("synthesize")["synthesize"])


RAW_FILES = {
    "characters": "character_data.csv",
    "sub_data": "sub_data.csv",
    "sub_miss": "sub_miss.csv",
    "character_currency": "character_currency.csv",
    "sub_churn_truth": "sub_churn_truth.csv",
}


def test_the_committed_sample_is_what_the_default_parameters_make(
    default_tables, tmp_path
):
    """Byte for byte: a change to the generator that moves a number shows here.

    Where the change is meant, regenerate the sample (`kedro run -p
    sub_churn_synthesize`) and commit it with the change.
    """
    for name, file in RAW_FILES.items():
        ArrowCSVDataset(filepath=str(tmp_path / file)).save(
            getattr(default_tables, name)
        )
        committed = (PROJECT_ROOT / "data" / "01_raw" / file).read_bytes()
        assert (tmp_path / file).read_bytes() == committed, file


def test_tables_follow_the_contract(default_tables):
    t = default_tables
    typed = {name: validate_table(getattr(t, name), SCHEMAS[name]) for name in SCHEMAS}
    check_foreign_keys(
        typed["sub_data"],
        SCHEMAS["sub_data"],
        "char_id",
        typed["characters"]["char_id"],
        "character_data.csv",
    )
    check_foreign_keys(
        typed["sub_miss"],
        SCHEMAS["sub_miss"],
        "sub_id",
        typed["sub_data"]["sub_id"],
        "sub_data.csv",
    )
    check_foreign_keys(
        typed["character_currency"],
        SCHEMAS["character_currency"],
        "char_id",
        typed["characters"]["char_id"],
        "character_data.csv",
    )
    check_date_order(typed["sub_miss"], SCHEMAS["sub_miss"], "start_date", "end_date")
    check_date_order(
        typed["characters"],
        SCHEMAS["characters"],
        "creation_date",
        "class_mastery_date",
    )
    assert list(t.characters.columns) == list(SCHEMAS["characters"].columns)
    assert list(t.sub_data.columns) == list(SCHEMAS["sub_data"].columns)
    assert list(t.sub_miss.columns) == list(SCHEMAS["sub_miss"].columns)
    assert list(t.character_currency.columns) == list(
        SCHEMAS["character_currency"].columns
    )


def test_date_rules(default_tables, synthesize_params):
    t = default_tables
    first, last = (
        pd.Timestamp(synthesize_params["first_month"]),
        pd.Timestamp(synthesize_params["last_month"]),
    )
    # monthly rows cover the months of data; a character's earlier subscriptions
    # (from before the data starts) are in sub_data, as in a subscription export
    assert t.character_currency["date"].between(first, last).all()
    assert (t.sub_data["sub_start_date"] <= last).all()
    assert (t.sub_data["sub_start_date"] < first).any()
    assert (t.sub_miss["end_date"] <= last).all()
    # a character's currency rows start no earlier than its creation month
    created = t.characters.set_index("char_id")["creation_date"].dt.to_period("M")
    rows = t.character_currency["date"].dt.to_period("M")
    assert (rows >= created.reindex(t.character_currency["char_id"]).to_numpy()).all()
    # a subscription starts no earlier than its character's creation month
    sub_created = created.reindex(t.sub_data["char_id"]).to_numpy()
    assert (t.sub_data["sub_start_date"].dt.to_period("M") >= sub_created).all()
    # characters hold several subscriptions, and is_first_sub has something to mark
    assert t.sub_data["char_id"].duplicated().any()


def test_the_economy_is_stationary_without_drift(default_tables):
    """Balances revert to their levels and the population stays alike: no year drifts."""
    t = default_tables
    currency = t.character_currency
    quarter = currency["date"].dt.to_period("Q")
    medians = currency.groupby(quarter)[["soft_balance", "hard_balance"]].median()
    soft = medians["soft_balance"]
    assert soft.max() < 1.15 * soft.min(), soft
    subs = t.sub_data.merge(t.characters[["char_id", "creation_date"]], on="char_id")
    subs["age"] = (subs["sub_start_date"] - subs["creation_date"]).dt.days
    year = subs["sub_start_date"].dt.year
    for column in ("age", "price", "sub_months"):
        ks = ks_2samp(subs.loc[year == 2016, column], subs.loc[year == 2017, column])
        assert ks.statistic < 0.05, (column, ks.statistic)


def test_extraction_time_totals_play_no_part_in_churn(default_tables):
    t = default_tables
    kd = np.log(
        t.characters["total_kills"].clip(lower=1) / t.characters["total_deaths"]
    )
    by_sub = t.sub_data[["sub_id", "char_id"]].merge(t.sub_churn_truth, on="sub_id")
    by_sub["kd"] = (
        kd.set_axis(t.characters["char_id"]).reindex(by_sub["char_id"]).to_numpy()
    )
    assert abs(by_sub["kd"].corr(by_sub["churn_probability"])) < 0.03


def test_churn_probabilities_rank_the_drawn_labels(default_tables):
    t = default_tables
    labels = _labels(t)
    proba = t.sub_churn_truth.set_index("sub_id").loc[
        t.sub_data["sub_id"], "churn_probability"
    ]
    assert 0.1 < labels.mean() < 0.5
    assert roc_auc_score(labels, proba) >= 0.75
    shuffled = np.random.default_rng(0).permutation(proba.to_numpy())
    assert abs(roc_auc_score(labels, shuffled) - 0.5) < 0.05


def test_drift_raises_prices_after_the_drift_month(synthesize_params):
    params = _small(synthesize_params)
    params["drift"] = {
        **params["drift"],
        "enabled": True,
        "from_month": "2017-07-01",
        "price_multiplier": 2.0,
    }
    base = generate_raw_tables(_small(synthesize_params)).sub_data
    drifted = generate_raw_tables(params).sub_data
    after = drifted["sub_start_date"] >= "2017-07-01"
    assert after.any()
    assert drifted.loc[after, "price"].mean() > 1.5 * base.loc[after, "price"].mean()
    pd.testing.assert_series_equal(
        drifted.loc[~after, "price"], base.loc[~after, "price"]
    )


def test_rejects_an_empty_month_range(synthesize_params):
    with pytest.raises(ValueError, match="last_month"):
        generate_raw_tables(
            _small(synthesize_params, last_month=synthesize_params["first_month"])
        )


def test_drift_of_churn_changes_the_function_from_the_drift_month_only(
    synthesize_params,
):
    """`drift.churn` moves coefficients for subscriptions starting from the drift month."""
    params = _small(synthesize_params)
    params["drift"] = {
        **params["drift"],
        "enabled": True,
        "from_month": "2016-07-01",
        "price_multiplier": 1.0,
        "play_earnings_multiplier": 1.0,
        "sub_type_mix": None,
        # unset keys (None) keep the base coefficient
        "churn": {"price_per_unit": None, "sub_type": {"soft": -2.0}},
    }
    base = generate_raw_tables(_small(synthesize_params))
    drifted = generate_raw_tables(params)
    # the inputs do not move: same subscriptions, same prices and types
    pd.testing.assert_frame_equal(drifted.sub_data, base.sub_data)
    subs = base.sub_data.merge(
        base.sub_churn_truth, on="sub_id", suffixes=("", "_base")
    ).merge(drifted.sub_churn_truth, on="sub_id", suffixes=("_base", "_drift"))
    before = subs["sub_start_date"] < "2016-07-01"
    np.testing.assert_array_equal(
        subs.loc[before, "churn_probability_drift"],
        subs.loc[before, "churn_probability_base"],
    )
    soft_after = ~before & (subs["sub_type"] == "soft")
    assert soft_after.sum() > 50
    drop = (
        subs.loc[soft_after, "churn_probability_base"]
        - subs.loc[soft_after, "churn_probability_drift"]
    )
    # the soft effect went from +0.6 to -2.0 on the logit: every soft subscription churns less
    assert (drop > 0).mean() > 0.95
    assert drop.mean() > 0.2


def test_the_last_months_look_like_the_rest(default_tables):
    """Characters are created up to the last month: the final batches are not all veterans."""
    t = default_tables
    subs = t.sub_data.merge(t.characters[["char_id", "creation_date"]], on="char_id")
    first = ~subs.sort_values("sub_start_date")["char_id"].duplicated()
    subs["first"] = first.reindex(subs.index)
    month = subs["sub_start_date"].dt.to_period("M")
    last = month.max()
    share = subs.groupby(month)["first"].mean()
    middle = share[(share.index >= last - 14) & (share.index <= last - 3)]
    for m in (last - 1, last):
        # a batch's share of first subscriptions stays within the year before's range
        assert share[m] > 0.8 * middle.min(), (str(m), share[m], middle.min())
    new = subs["sub_start_date"].dt.to_period("M") == subs[
        "creation_date"
    ].dt.to_period("M")
    assert (
        new[month == last].mean()
        > 0.5 * new[(month >= last - 14) & (month <= last - 3)].mean()
    )
