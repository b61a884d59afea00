"""The online store's tables and the feature rows built from them, on hand-made and sample data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kedro_ml.core.online import store_tables, template_feature_rows
from kedro_ml.core.stages import (
    validated_characters,
    validated_currency,
    validated_subscriptions,
)
from tests.conftest import committed_raw_tables

AS_OF = pd.Timestamp("2016-10-01")


@pytest.fixture(scope="module")
def sample():
    raw = committed_raw_tables()
    characters = validated_characters(raw["characters"])
    subs, _ = validated_subscriptions(raw["sub_data"], characters, "error")
    currency = validated_currency(raw["character_currency"], characters)
    return characters, subs, currency


@pytest.fixture(scope="module")
def tables(sample):
    characters, subs, currency = sample
    return store_tables(characters, subs, currency, AS_OF, [1, 3, 6])


def test_only_characters_that_exist_by_the_end_of_the_month_have_a_template(
    sample, tables
):
    characters, _, _ = sample
    created = characters.set_index("char_id")["creation_date"]
    kept = tables["templates"]["char_id"]
    assert (created.loc[kept] < pd.Timestamp("2016-11-01")).all()
    assert len(kept) == int((created < pd.Timestamp("2016-11-01")).sum())


def test_a_template_counts_only_the_subscriptions_begun_before_its_month(
    sample, tables
):
    _, subs, _ = sample
    before = subs[subs["sub_start_date"] < AS_OF].groupby("char_id").size()
    templates = tables["templates"].set_index("char_id")
    expected = before.reindex(templates.index, fill_value=0)
    assert (templates["n_prior_subs"].to_numpy() == expected.to_numpy()).all()


def test_the_newcomer_is_one_row_without_history(tables):
    newcomer = tables["newcomer"]
    assert len(newcomer) == 1 and "char_id" not in newcomer
    assert int(newcomer["n_prior_subs"].iloc[0]) == 0


def test_two_subscriptions_of_one_character_in_a_request_count_each_other():
    templates = {
        "n_prior_subs": np.array([2, 2, 0], dtype=np.int16),
        "is_first_sub": np.array([0, 0, 1], dtype=np.int8),
    }
    requests = {
        "char_id": np.array([7, 7, 9]),
        "sub_id": np.array([11, 10, 12]),
        "sub_type": np.array(["hard", "soft", "soft"]),
        "sub_months": np.array([3, 3, 1]),
        "sub_size": np.array([100, 100, 200]),
        "price": np.array([10.0, 10.0, 5.0]),
        "num_hard_currency": np.array([100.0, 0.0, 0.0]),
        "num_soft_currency": np.array([0.0, 100.0, 50.0]),
    }
    rows = template_feature_rows(requests, templates)
    # sub 10 comes first for character 7: sub 11 has it among its earlier ones
    assert rows["n_prior_subs"].tolist() == [3, 2, 0]
    assert rows["is_first_sub"].tolist() == [0, 0, 1]
    assert rows["n_prior_subs"].dtype == np.int16
    assert rows["price"].tolist() == [10.0, 10.0, 5.0]


def test_a_store_month_after_the_data_or_after_today_is_refused():
    from kedro_ml.core.online import check_store_month

    last, today = pd.Timestamp("2016-09-01"), pd.Timestamp("2026-12-06")
    check_store_month(pd.Timestamp("2016-10-01"), last, today)  # the default month
    check_store_month(pd.Timestamp("2016-05-01"), last, today)  # an earlier one
    with pytest.raises(
        ValueError, match=r"online_store.as_of 2016-11-01 is after the data"
    ):
        check_store_month(pd.Timestamp("2016-11-01"), last, today)
    with pytest.raises(ValueError, match="is after today"):
        check_store_month(pd.Timestamp("2027-01-01"), pd.Timestamp("2026-12-01"), today)
