"""The replay's Kedro-free parts: what a month knows, its windows, its timeline."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from kedro_ml.core.replay import (
    ReplayError,
    add_months,
    check_no_extraction_time_features,
    month_windows,
    months,
    nan_to_none,
    raw_as_of,
    settled_rows,
    timeline_figure,
    timeline_frame,
)

D = pd.Timestamp


def _tables() -> dict[str, pd.DataFrame]:
    characters = pd.DataFrame(
        {
            "char_id": [1, 2, 3],
            "creation_date": [D("2016-01-10"), D("2016-03-15"), D("2016-04-02")],
            "class_mastery_date": [D("2016-02-20"), D("2016-03-31"), pd.NaT],
            "total_kills": [5, 6, 7],
        }
    )
    sub_data = pd.DataFrame(
        {
            "sub_id": [10, 11, 12, 13],
            "char_id": [1, 1, 2, 3],
            "sub_start_date": [
                D("2016-01-01"),
                D("2016-04-01"),
                D("2016-03-01"),
                D("2016-04-01"),
            ],
            "sub_months": [3, 1, 2, 1],
        }
    )
    sub_miss = pd.DataFrame(
        {
            "sub_id": [10, 12, 11],
            "start_date": [D("2016-01-01"), D("2016-02-01"), D("2016-04-01")],
            "end_date": [D("2016-01-01"), D("2016-05-01"), D("2016-04-01")],
        }
    )
    currency = pd.DataFrame(
        {
            "char_id": [1, 1, 1, 2, 2, 3],
            "date": [
                D("2016-01-01"),
                D("2016-02-01"),
                D("2016-03-01"),
                D("2016-03-01"),
                D("2016-04-01"),
                D("2016-04-01"),
            ],
            "soft_balance": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        }
    )
    truth = pd.DataFrame(
        {"sub_id": [10, 11, 12, 13], "churn_probability": [0.1, 0.2, 0.3, 0.4]}
    )
    return {
        "characters": characters,
        "sub_data": sub_data,
        "sub_miss": sub_miss,
        "character_currency": currency,
        "sub_churn_truth": truth,
    }


def test_a_month_sees_what_an_export_at_its_close_holds():
    tables = _tables()
    seen = raw_as_of(tables, "2016-03-01")
    # created by the close of March (char 2 on March 15th), not char 3 (April)
    assert seen["characters"]["char_id"].tolist() == [1, 2]
    # char 2 mastered on March 31st: known at the close of March
    assert seen["characters"]["class_mastery_date"].tolist() == [
        D("2016-02-20"),
        D("2016-03-31"),
    ]
    # subscriptions started by March: the batch of March is among them
    assert seen["sub_data"]["sub_id"].tolist() == [10, 12]
    # runs begun by March, cut at March (sub 12's run goes on to May)
    assert seen["sub_miss"]["sub_id"].tolist() == [10, 12]
    assert seen["sub_miss"]["end_date"].tolist() == [D("2016-01-01"), D("2016-03-01")]
    # currency dated January to March
    assert seen["character_currency"]["date"].max() == D("2016-03-01")
    assert len(seen["character_currency"]) == 4
    assert seen["sub_churn_truth"]["sub_id"].tolist() == [10, 12]
    # the inputs are untouched
    assert tables["sub_miss"]["end_date"].tolist()[1] == D("2016-05-01")
    assert tables["characters"]["class_mastery_date"].notna().sum() == 2


def test_a_mastery_after_the_close_is_not_known_yet():
    seen = raw_as_of(_tables(), "2016-02-01")
    # char 1 mastered on February 20th: known at the close of February
    assert seen["characters"]["class_mastery_date"].tolist() == [D("2016-02-20")]
    seen = raw_as_of(_tables(), "2016-01-01")
    assert seen["characters"]["class_mastery_date"].isna().all()


def test_a_later_month_sees_more_and_lifetime_totals_stay():
    seen = raw_as_of(_tables(), "2016-05-01")
    assert seen["characters"]["char_id"].tolist() == [1, 2, 3]
    # lifetime totals cannot be cut to a moment: kept, and a replay refuses a
    # model that reads them (test_a_replay_refuses_a_model_reading_lifetime_totals)
    assert seen["characters"]["total_kills"].tolist() == [5, 6, 7]
    assert seen["sub_data"]["sub_id"].tolist() == [10, 11, 12, 13]
    # the run of sub 12 (February to May) ends in May: kept whole
    ends = dict(
        zip(seen["sub_miss"]["sub_id"], seen["sub_miss"]["end_date"], strict=True)
    )
    assert ends == {10: D("2016-01-01"), 12: D("2016-05-01"), 11: D("2016-04-01")}
    assert seen["character_currency"]["date"].max() == D("2016-04-01")


def test_a_replay_refuses_a_model_reading_lifetime_totals():
    check_no_extraction_time_features({"accept_leaky_features": []})
    check_no_extraction_time_features({})
    with pytest.raises(ReplayError, match=r"model.accept_leaky_features.*kd_ratio"):
        check_no_extraction_time_features({"accept_leaky_features": ["kd_ratio"]})


@pytest.mark.parametrize(
    "month", ["2015-03-01", "2016-07-01", "2017-05-01", "2017-12-01"]
)
def test_each_snapshot_equals_an_independent_cut_of_the_committed_sample(
    month, tmp_path
):
    """The snapshot as the work folder writes it, against a cut made from the CSV text."""
    from kedro_ml.datasets.arrow_csv import ArrowCSVDataset
    from tests.conftest import PROJECT_ROOT, committed_raw_tables
    from tests.replay_cut import FILES, cut, same_as_cut

    snapshot = raw_as_of(committed_raw_tables(), month)
    for name, file in FILES.items():
        ArrowCSVDataset(filepath=str(tmp_path / file)).save(snapshot[name])
    expected = cut(PROJECT_ROOT / "data" / "01_raw", month)
    assert all(expected.values())
    assert same_as_cut(tmp_path, expected) == []


def test_without_a_truth_table_none_is_written():
    tables = _tables()
    del tables["sub_churn_truth"]
    assert "sub_churn_truth" not in raw_as_of(tables, "2016-03-01")
    empty = {
        **_tables(),
        "sub_churn_truth": pd.DataFrame(columns=["sub_id", "churn_probability"]),
    }
    assert "sub_churn_truth" not in raw_as_of(empty, "2016-03-01")


def test_month_windows_follow_the_out_of_time_rule():
    rules = {"train_months": 12, "score_months": 3, "score_lag_months": 2}
    windows = month_windows("2017-06-01", rules)
    assert windows["labels"] == {"as_of": "2017-05-01"}
    assert windows["batch_predict"]["window"] == {
        "date_start": "2017-06-01",
        "date_end": "2017-06-01",
    }
    # scored: the three months ending two before the labels' month
    assert windows["score"]["window"] == {
        "date_start": "2017-01-01",
        "date_end": "2017-03-01",
    }
    # trained: the twelve before them, with labels as of the month before the scored ones
    assert windows["train"]["window"] == {
        "date_start": "2016-01-01",
        "date_end": "2016-12-01",
    }
    assert windows["train"]["label_as_of"] is None


def test_month_windows_across_a_year_and_with_one_month():
    rules = {"train_months": 1, "score_months": 1, "score_lag_months": 0}
    windows = month_windows("2017-01-01", rules)
    assert windows["score"]["window"] == {
        "date_start": "2016-12-01",
        "date_end": "2016-12-01",
    }
    assert windows["train"]["window"] == {
        "date_start": "2016-11-01",
        "date_end": "2016-11-01",
    }


def test_months_and_add_months():
    assert [f"{m:%Y-%m}" for m in months("2016-11-01", "2017-02-01")] == [
        "2016-11",
        "2016-12",
        "2017-01",
        "2017-02",
    ]
    assert months("2016-11-01", "2016-11-01") == [D("2016-11-01")]
    with pytest.raises(ValueError, match="ends .* before it starts"):
        months("2017-02-01", "2016-11-01")
    assert add_months(D("2016-01-31"), 1) == D("2016-02-01")
    assert add_months(D("2016-03-01"), -3) == D("2015-12-01")


def test_settled_rows_count_only_labels_known():
    predictions = pd.DataFrame({"sub_id": [1, 2, 3, 4]})
    labels = pd.DataFrame(
        {"sub_id": [1, 2, 3, 9], "sub_churn": pd.array([1, pd.NA, 0, 1], dtype="Int8")}
    )
    assert settled_rows(predictions, labels) == 2


def _timeline() -> dict:
    months_ = ["2016-01-01", "2016-02-01", "2016-03-01", "2016-04-01"]
    entries = [
        {
            "month": m,
            "champion_version": v,
            "share_drifted": s,
            "retrain_recommended": r,
            "retrained": r,
            "promoted": p,
        }
        for m, v, s, r, p in zip(
            months_,
            ["1", "1", "1", "2"],
            [0.0, 0.4, 0.5, 0.1],
            [False, True, True, False],
            [False, False, True, False],
            strict=True,
        )
    ]
    return {
        "game": "g",
        "drift_from": "2016-02-01",
        "drift_share_threshold": 0.3,
        "months": entries,
        "batches": {
            "2016-01-01": {
                "roc_auc": 0.8,
                "oracle_roc_auc": 0.85,
                "ece": 0.02,
                "n_scored": 100,
            },
            "2016-02-01": {
                "roc_auc": 0.7,
                "oracle_roc_auc": float("nan"),
                "ece": 0.05,
                "n_scored": 90,
            },
        },
    }


def test_timeline_frame_puts_each_batch_at_its_month():
    frame = timeline_frame(_timeline())
    assert frame["roc_auc"].tolist()[:2] == [0.8, 0.7]
    assert frame["roc_auc"].isna().tolist() == [False, False, True, True]
    assert frame["oracle_roc_auc"].isna().tolist() == [False, True, True, True]
    assert frame["n_scored"].tolist() == [100, 90, 0, 0]
    assert frame["promoted"].tolist() == [False, False, True, False]


def test_timeline_figure_marks_retraining_promotion_and_drift():
    fig = timeline_figure(_timeline())
    assert isinstance(fig, Figure)
    top, bottom = fig.axes
    labels = top.get_legend_handles_labels()[1]
    assert "batches of champion v1" in labels
    # v2 has no settled batch yet: nothing to plot, nothing in the legend
    assert "batches of champion v2" not in labels
    assert {"retrained", "promoted", "drift injected", "oracle ROC-AUC"} <= set(labels)
    # one vertical line per retraining (2), promotion (1) and the drift month, on each axis
    vertical = [line for line in bottom.get_lines() if len(set(line.get_xdata())) == 1]
    assert len(vertical) == 4
    assert "2 retraining(s), 1 promotion(s)" in fig.texts[0].get_text()
    # the bars: one per month, red where retraining was recommended
    assert len(bottom.patches) == 4


def test_nan_to_none_makes_json_of_numpy_values():
    value = {
        "a": [np.float32(1.5), float("nan"), np.inf],
        "b": np.int64(3),
        "c": np.bool_(True),
    }
    assert nan_to_none(value) == {"a": [1.5, None, None], "b": 3, "c": True}
    assert not any(
        isinstance(x, float) and math.isnan(x) for x in nan_to_none([float("nan")]) if x
    )


@pytest.mark.parametrize("month", ["2016-03-01", "2017-06-01"])
def test_a_snapshot_loses_nothing_known_before_its_month(
    small_raw_tables, base_params, month
):
    """Labels as of m - 1 and the batch of m are the same from the snapshot as from all the data."""
    from kedro_ml.core.features import feature_table
    from kedro_ml.pipelines import sub_churn_standard_features
    from tests.conftest import raw_datasets, run_in_memory

    m = D(month)
    params = {
        **base_params,
        "labels": {**base_params["labels"], "as_of": f"{add_months(m, -1):%Y-%m-%d}"},
    }
    full = raw_datasets(small_raw_tables)
    snapshot = raw_as_of(full, m)
    pipeline = sub_churn_standard_features.create_pipeline()
    outputs = {
        "full": run_in_memory(pipeline, full, params),
        "snapshot": run_in_memory(pipeline, {**full, **snapshot}, params),
    }
    labels = {
        k: v["sub_churn_labels"].set_index("sub_id").sort_index()
        for k, v in outputs.items()
    }
    kept = labels["snapshot"].index
    assert len(kept) > 1000
    pd.testing.assert_frame_equal(
        labels["snapshot"], labels["full"].loc[kept], check_index_type=False
    )
    assert (labels["snapshot"]["label_state"] == "settled").sum() > 500

    windows = base_params["features"]["windows_months"]

    def batch(name: str) -> pd.DataFrame:
        subs = outputs[name]["subscription_features"]
        subs = subs[subs["sub_start_date"] == m]
        table = feature_table(subs, outputs[name]["currency_monthly"], windows)
        return table.sort_values("sub_id").reset_index(drop=True)

    snap, whole = batch("snapshot"), batch("full")
    assert len(snap) > 20
    # mastery dated in or after m is not known yet: the same feature as the full data gives
    pd.testing.assert_frame_equal(
        snap, whole, check_dtype=False, check_categorical=False
    )
