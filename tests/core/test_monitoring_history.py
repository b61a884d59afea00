"""The monitoring history's rows and page, on states written by hand."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from kedro_ml.core.monitoring_history import history_frame, history_page, month_step


def _state(month: str, **extra) -> dict:
    return {
        "month": month,
        "batch_size": 100,
        "unknown_share": None,
        "share_drifted": 0.1,
        "prediction_psi": 0.05,
        "retrain_recommended": False,
        "retrained": False,
        "promoted": False,
        "champion_version": "1",
        "champion_version_after": "1",
        "feature_psi": {"price": 0.3, "age": 0.01},
        **extra,
    }


def test_a_row_per_month_oldest_first_with_its_batch_scores():
    states = [
        _state("2017-02-01", batch_size=80, unknown_share=0.25),
        _state("2017-01-01", retrain_recommended=True, retrained=True),
    ]
    scores = {
        "2017-01-01": {
            "roc_auc": 0.75,
            "ece": 0.02,
            "n_scored": 60,
            "scored_in": "2017-02-01",
        }
    }
    frame = history_frame(states, scores)
    assert list(frame["month"]) == ["2017-01-01", "2017-02-01"]
    assert list(frame["batch_size"]) == [100, 80]
    assert (
        frame.loc[0, "batch_roc_auc"] == 0.75 and frame.loc[0, "batch_n_settled"] == 60
    )
    assert frame.loc[0, "batch_scored_in"] == "2017-02-01"
    assert math.isnan(frame.loc[1, "batch_roc_auc"])  # not settled yet: unknown, not 0
    assert (
        math.isnan(frame.loc[0, "unknown_share"])
        and frame.loc[1, "unknown_share"] == 0.25
    )
    assert list(frame["retrained"]) == [True, False]
    assert frame.loc[0, "psi.price"] == 0.3 and frame.loc[1, "psi.age"] == 0.01
    assert frame["champion_version_after"].tolist() == [1.0, 1.0]


def test_no_month_is_an_empty_history():
    frame = history_frame([], {})
    assert frame.empty and "batch_size" in frame.columns
    page = history_page("game1", frame)
    assert "0 operated months (none yet)" in page and "<circle" not in page


def test_the_page_draws_every_known_value_once_and_no_unknown_one():
    states = [
        _state("2017-01-01"),
        _state("2017-02-01", unknown_share=0.2),
        _state("2017-03-01", unknown_share=0.3, batch_size=120),
    ]
    page = history_page("game1", history_frame(states, {}))
    points = re.findall(
        r'data-series="([^"]+)" data-month="([^"]+)" data-value="([^"]+)"', page
    )
    by_series: dict[str, list] = {}
    for series, month, value in points:
        by_series.setdefault(series, []).append((month, float(value)))
    assert by_series["batch_size"] == [
        ("2017-01-01", 100.0),
        ("2017-02-01", 100.0),
        ("2017-03-01", 120.0),
    ]
    assert by_series["unknown_share"] == [("2017-02-01", 0.2), ("2017-03-01", 0.3)]
    assert "batch_roc_auc" not in by_series  # no batch has settled labels
    assert page.count("no value yet") >= 1
    # the feature drift table lists the most drifted feature first
    assert page.index('data-feature="price"') < page.index('data-feature="age"')


def test_names_from_the_data_are_escaped_on_the_page():
    states = [_state("2017-01-01", feature_psi={"<b>odd & name</b>": 0.5})]
    page = history_page("<game>", history_frame(states, {}))
    assert "<b>odd" not in page and "&lt;b&gt;odd &amp; name&lt;/b&gt;" in page
    assert "Monitoring · &lt;game&gt;" in page


def test_non_finite_values_are_left_blank_not_drawn():
    states = [_state("2017-01-01", prediction_psi=float("inf")), _state("2017-02-01")]
    frame = history_frame(states, {})
    page = history_page("game1", frame)
    assert 'data-series="prediction_psi" data-month="2017-01-01"' not in page
    assert 'data-series="prediction_psi" data-month="2017-02-01"' in page


@pytest.mark.parametrize(
    ("month", "step"), [("2016-10-01", 201610), ("2017-01-01", 201701)]
)
def test_a_month_is_a_readable_mlflow_step(month, step):
    assert month_step(month) == step


def test_numpy_values_of_the_table_are_logged_as_numbers():
    from kedro_ml.orchestration.operation import _numbers

    values = {
        "n": np.int64(5),
        "x": np.float64(0.5),
        "flag": np.bool_(True),
        "nan": np.nan,
        "text": "a",
    }
    assert _numbers(values) == {"n": 5.0, "x": 0.5, "flag": 1.0}
    assert _numbers({"inf": float("inf"), "none": None, "frame": pd.NA}) == {}
