"""The churn label: hand-made edge cases, and an independent row-by-row reference.

``reference_label`` follows the data contract's words literally, one
subscription at a time with Python sets and loops, sharing no code with
``kedro_ml.core.labels``.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from kedro_ml.core.labels import churn_labels, training_label_as_of
from tests.conftest import PROJECT_ROOT


def _month(value) -> int:
    value = pd.Timestamp(value)
    return value.year * 12 + value.month


def reference_label(
    start: dt.date,
    term: int,
    runs: list[tuple[dt.date, dt.date]],
    as_of: dt.date,
    horizon: int | None = None,
) -> tuple[int | None, str]:
    """(label, state) of one subscription, straight from the contract's text."""
    s, a = _month(start), _month(as_of)
    h = term if horizon is None else horizon
    if horizon is None and term == 0:
        return None, "no_term"
    missed = set()
    for first, last in runs:
        for m in range(_month(first), _month(last) + 1):
            if s <= m <= a:
                missed.add(m)
    if a < s + h + 1:
        return None, "unsettled"
    for m in range(s, s + h):
        if m in missed and m + 1 in missed and m + 2 in missed:
            return 1, "settled"
    return 0, "settled"


def _frames(cases: dict[int, tuple]) -> tuple[pd.DataFrame, pd.DataFrame]:
    subs = pd.DataFrame(
        {
            "sub_id": list(cases),
            "sub_start_date": pd.to_datetime([c[0] for c in cases.values()]),
            "sub_months": [c[1] for c in cases.values()],
        }
    )
    miss = pd.DataFrame(
        [(sub_id, a, b) for sub_id, c in cases.items() for a, b in c[2]],
        columns=["sub_id", "start_date", "end_date"],
    )
    miss["start_date"] = pd.to_datetime(miss["start_date"])
    miss["end_date"] = pd.to_datetime(miss["end_date"])
    return subs, miss


# sub_id: (start, term, [runs]) ; labels as of 2017-12 unless a test says otherwise
EDGE_CASES = {
    1: (
        "2017-01-01",
        3,
        [("2017-02-01", "2017-04-01")],
    ),  # run inside, crossing the end
    2: ("2017-01-01", 3, []),  # no run: kept
    3: ("2017-01-01", 3, [("2016-10-01", "2017-01-01")]),  # run before the start
    4: ("2017-01-01", 3, [("2017-04-01", "2017-06-01")]),  # run after the horizon
    5: ("2017-01-01", 3, [("2017-03-01", "2017-05-01")]),  # begins in the last month
    6: ("2017-01-01", 3, [("2017-01-01", "2017-01-01"), ("2017-02-01", "2017-03-01")]),
    7: ("2017-01-01", 3, [("2017-01-01", "2017-02-01"), ("2017-02-01", "2017-03-01")]),
    8: ("2017-01-01", 0, [("2017-01-01", "2017-03-01")]),  # no term
    9: ("2017-01-01", 3, [("2016-12-01", "2017-02-01")]),  # only two months inside
    10: ("2017-01-01", 3, [("2016-11-01", "2017-03-01")]),  # straddles the start
    11: ("2017-01-01", 3, [("2017-02-01", "2017-03-01")]),  # two months only
    12: ("2017-10-01", 3, [("2017-10-01", "2017-12-01")]),  # seen, not settled yet
    13: ("2017-01-01", 6, [("2017-06-01", "2017-08-01")]),  # longer term
}


def test_the_reference_gives_the_expected_answers_by_hand():
    expected = {
        1: 1,
        2: 0,
        3: 0,
        4: 0,
        5: 1,
        6: 1,
        7: 1,
        8: None,
        9: 0,
        10: 1,
        11: 0,
        12: None,
        13: 1,
    }
    got = {
        i: reference_label(pd.Timestamp(c[0]), c[1], c[2], pd.Timestamp("2017-12-01"))[
            0
        ]
        for i, c in EDGE_CASES.items()
    }
    assert got == expected


@pytest.mark.parametrize(
    "as_of", ["2017-03-01", "2017-04-01", "2017-05-01", "2017-12-01"]
)
@pytest.mark.parametrize("horizon", [None, 1, 2])
def test_edge_cases_equal_the_reference(as_of, horizon):
    subs, miss = _frames(EDGE_CASES)
    labels = churn_labels(subs, miss, as_of, horizon).set_index("sub_id")
    for sub_id, (start, term, runs) in EDGE_CASES.items():
        label, state = reference_label(
            pd.Timestamp(start), term, runs, pd.Timestamp(as_of), horizon
        )
        got = labels.loc[sub_id]
        assert str(got["label_state"]) == state, (sub_id, as_of, horizon)
        assert (
            None if pd.isna(got["sub_churn"]) else int(got["sub_churn"])
        ) == label, (
            sub_id,
            as_of,
            horizon,
        )


def test_a_run_in_the_horizons_last_month_settles_only_when_its_third_month_is_known():
    subs, miss = _frames({5: EDGE_CASES[5]})  # term Jan-Mar, run Mar-May
    assert pd.isna(churn_labels(subs, miss, "2017-04-01")["sub_churn"].iloc[0])
    assert churn_labels(subs, miss, "2017-05-01")["sub_churn"].iloc[0] == 1


def test_censoring_is_symmetric_a_visible_run_does_not_label_early():
    subs, miss = _frames({13: EDGE_CASES[13]})  # six-month term, run Jun-Aug
    early = churn_labels(subs, miss, "2017-07-01")  # the run is half seen
    assert pd.isna(early["sub_churn"].iloc[0])
    assert str(early["label_state"].iloc[0]) == "unsettled"


def test_a_settled_label_does_not_flip_later():
    subs, miss = _frames({4: EDGE_CASES[4], 2: EDGE_CASES[2]})
    # a run that begins after the horizon, seen only later, changes nothing
    for as_of in ("2017-05-01", "2017-06-01", "2017-12-01"):
        labels = churn_labels(subs, miss, as_of)
        assert labels["sub_churn"].tolist() == [0, 0]


def test_no_term_is_left_out_and_counted_not_an_error():
    subs, miss = _frames({8: EDGE_CASES[8]})
    labels = churn_labels(subs, miss, "2017-12-01")
    assert pd.isna(labels["sub_churn"].iloc[0])
    assert str(labels["label_state"].iloc[0]) == "no_term"
    # under a fixed horizon, the same subscription has a label
    fixed = churn_labels(subs, miss, "2017-12-01", horizon_months=3)
    assert fixed["sub_churn"].iloc[0] == 1


def test_the_committed_sample_equals_the_reference():
    raw = PROJECT_ROOT / "data" / "01_raw"
    subs = pd.read_csv(raw / "sub_data.csv", parse_dates=["sub_start_date"])
    miss = pd.read_csv(raw / "sub_miss.csv", parse_dates=["start_date", "end_date"])
    as_of = pd.Timestamp("2017-06-01")  # in the middle of many runs
    got = churn_labels(subs, miss, as_of).set_index("sub_id")
    runs = {
        sub_id: list(zip(group["start_date"], group["end_date"], strict=True))
        for sub_id, group in miss.groupby("sub_id")
    }
    mismatches = []
    for row in subs.itertuples(index=False):
        label, state = reference_label(
            row.sub_start_date, row.sub_months, runs.get(row.sub_id, []), as_of
        )
        mine = got.loc[row.sub_id]
        mine_label = None if pd.isna(mine["sub_churn"]) else int(mine["sub_churn"])
        if (mine_label, str(mine["label_state"])) != (label, state):
            mismatches.append(row.sub_id)
    assert not mismatches, mismatches[:10]
    assert got["sub_churn"].notna().sum() > 10_000  # the sample exercises the rule


def test_the_training_cutoff_is_the_month_before_deployment_unless_earlier_is_given():
    assert training_label_as_of(None, "2016-11-01") == pd.Timestamp("2016-10-01")
    assert training_label_as_of("2016-06-01", "2016-11-01") == pd.Timestamp(
        "2016-06-01"
    )
    with pytest.raises(ValueError, match="could not have known"):
        training_label_as_of("2016-11-01", "2016-11-01")
