"""The order of operated months, and the stages' own checks, without running a month."""

from __future__ import annotations

import pandas as pd
import pytest

from kedro_ml.orchestration.operation import STAGES, OperationError, _check_order


def _done(*months: str, last_stages=STAGES) -> dict:
    states = {m: {"month": m, "stages": dict.fromkeys(STAGES, "run")} for m in months}
    if months:
        states[months[-1]]["stages"] = dict.fromkeys(last_stages, "run")
    return states


def test_a_game_never_operated_starts_at_any_month():
    _check_order({}, pd.Timestamp("2017-06-01"))


def test_the_next_month_follows_a_month_operated_to_its_end():
    _check_order(_done("2017-05-01"), pd.Timestamp("2017-06-01"))


def test_the_last_month_may_run_again_a_retried_task():
    _check_order(
        _done("2017-05-01", last_stages=("predict",)), pd.Timestamp("2017-05-01")
    )


def test_a_month_after_an_unfinished_one_waits_naming_what_is_missing():
    with pytest.raises(OperationError) as error:
        _check_order(
            _done("2017-05-01", last_stages=("predict", "score")),
            pd.Timestamp("2017-06-01"),
        )
    text = str(error.value)
    assert "2017-05-01 was not operated to its end" in text
    assert "predict, score" in text and "kedro operate --month 2017-05-01" in text


def test_a_gap_is_refused_naming_the_month_to_operate_next():
    with pytest.raises(OperationError, match="operate 2017-06-01 next"):
        _check_order(_done("2017-05-01"), pd.Timestamp("2017-08-01"))


def test_an_earlier_month_would_rewrite_history():
    with pytest.raises(OperationError, match="comes before 2017-05-01"):
        _check_order(_done("2017-04-01", "2017-05-01"), pd.Timestamp("2017-03-01"))
