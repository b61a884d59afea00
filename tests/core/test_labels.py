"""The churn label and its censoring rule on hand-made frames."""

from __future__ import annotations

import pandas as pd

from kedro_ml.core.labels import churn_labels

D = pd.Timestamp


def _miss(rows: list[tuple[int, str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["sub_id", "start_date", "end_date"])
    return frame.assign(
        start_date=pd.to_datetime(frame["start_date"]),
        end_date=pd.to_datetime(frame["end_date"]),
    )


def _label_subs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sub_id": [1, 2, 3, 4, 5],
            "sub_start_date": pd.to_datetime(
                ["2017-01-01"] * 2 + ["2017-06-01"] + ["2017-01-01"] * 2
            ),
            "sub_months": [3, 3, 3, 1, 3],
        }
    )


def test_churn_label_and_censoring_rule():
    miss = _miss(
        [
            (1, "2017-02-01", "2017-04-01"),  # a 3-month run: churn
            (4, "2017-01-01", "2017-01-01"),  # two adjacent rows form one 3-month run
            (4, "2017-02-01", "2017-03-01"),
            (5, "2017-03-01", "2017-04-01"),  # 2 months only
        ]
    )
    labels = churn_labels(_label_subs(), miss, D("2017-06-01")).set_index("sub_id")
    assert labels.loc[1, "sub_churn"] == 1
    assert (
        labels.loc[2, "sub_churn"] == 0
    )  # term Jan-Mar plus two months: known in June
    assert pd.isna(labels.loc[3, "sub_churn"])  # started in June: censored
    assert labels.loc[4, "sub_churn"] == 1
    assert labels.loc[5, "sub_churn"] == 0
    assert labels["longest_missed_run"].tolist() == [3, 0, 0, 3, 2]


def test_a_run_is_seen_only_up_to_the_as_of_month():
    miss = _miss([(1, "2017-02-01", "2017-04-01")])
    early = churn_labels(_label_subs(), miss, D("2017-03-01")).set_index("sub_id")
    assert early.loc[1, "longest_missed_run"] == 2
    assert pd.isna(early.loc[1, "sub_churn"])  # not churned yet, term not settled
    assert pd.isna(
        early.loc[2, "sub_churn"]
    )  # negatives need start + months + 2 <= as-of
