"""The month-by-month replay: what was known at each month, its windows, its timeline.

A replay walks months ``m`` in order and, at each, acts as the project would
have at the close of ``m``: it sees the raw rows an export taken on the last
day of ``m`` holds (:func:`raw_as_of`: every row dated in ``m`` or before),
predicts the subscriptions that started in ``m`` from the months before them,
scores earlier batches on the labels settled by ``m - 1`` (a month behind what
the export could settle: a term that ends in ``m`` is scored the month after)
and retrains on the windows :func:`month_windows` gives. Kedro-free: the
orchestration in ``kedro_ml.orchestration.replay`` runs the pipelines.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from kedro_ml.core.labels import month_before
from kedro_ml.core.reporting import batch_metrics

RAW_TABLES = ("characters", "sub_data", "sub_miss", "character_currency")


def month_start(value: Any) -> pd.Timestamp:
    """The first day of the month of ``value`` (a date, a string or a timestamp)."""
    stamp = pd.Timestamp(value)
    return pd.Timestamp(year=stamp.year, month=stamp.month, day=1)


def add_months(month: pd.Timestamp, k: int) -> pd.Timestamp:
    """``month`` moved by ``k`` months (first days stay first days)."""
    return month_start(month) + pd.DateOffset(months=k)


def months(first: Any, last: Any) -> list[pd.Timestamp]:
    """Every month from ``first`` to ``last``, both included."""
    start, end = month_start(first), month_start(last)
    if end < start:
        raise ValueError(
            f"the replay ends ({end:%Y-%m}) before it starts ({start:%Y-%m})"
        )
    return list(pd.date_range(start, end, freq="MS"))


def _day(month: pd.Timestamp) -> str:
    return f"{month:%Y-%m-%d}"


def raw_as_of(
    tables: Mapping[str, pd.DataFrame], month: Any
) -> dict[str, pd.DataFrame]:
    """The raw tables as an export taken at the close of ``month`` holds them.

    The moment of a month's step is the close of month ``m`` (its last day):
    every row dated in ``m`` or before is known, nothing dated later.
    Characters created by then (with a mastery dated by then; a later one is
    not yet known); subscriptions started by ``m`` (the batch of ``m`` among
    them); missed-month runs begun by ``m``, their end cut at ``m``; currency
    rows dated up to ``m``. Lifetime totals (``total_kills``,
    ``total_deaths``) are known only at their own export's extraction and
    cannot be cut to a moment: they stay as exported, and a replay refuses a
    model that reads them (:func:`check_no_extraction_time_features`).
    ``sub_churn_truth``, when given, keeps the subscriptions kept.

    What the step does with them stays point-in-time: features of a
    subscription read only the months before its start, and labels are taken
    as of ``m - 1`` (:func:`month_windows`).
    """
    m = month_start(month)
    close = add_months(m, 1)  # the first instant after the close of m
    chars = tables["characters"]
    chars = chars[chars["creation_date"] < close].copy()
    mastery = chars["class_mastery_date"]
    chars["class_mastery_date"] = mastery.where(mastery < close)
    subs = tables["sub_data"]
    subs = subs[(subs["sub_start_date"] <= m) & subs["char_id"].isin(chars["char_id"])]
    miss = tables["sub_miss"]
    miss = miss[(miss["start_date"] <= m) & miss["sub_id"].isin(subs["sub_id"])]
    miss = miss.assign(end_date=miss["end_date"].where(miss["end_date"] <= m, m))
    currency = tables["character_currency"]
    currency = currency[
        (currency["date"] <= m) & currency["char_id"].isin(chars["char_id"])
    ]
    out = {
        "characters": chars.reset_index(drop=True),
        "sub_data": subs.reset_index(drop=True),
        "sub_miss": miss.reset_index(drop=True),
        "character_currency": currency.reset_index(drop=True),
    }
    truth = tables.get("sub_churn_truth")
    if truth is not None and len(truth):
        out["sub_churn_truth"] = truth[
            truth["sub_id"].isin(subs["sub_id"])
        ].reset_index(drop=True)
    return out


def check_no_extraction_time_features(model_params: Mapping[str, Any]) -> None:
    """Refuse a replay whose model reads lifetime totals (they hold the replay's future)."""
    from kedro_ml.core.features import EXTRACTION_TIME_FEATURES

    accepted = [
        name
        for name in (model_params.get("accept_leaky_features") or [])
        if name in EXTRACTION_TIME_FEATURES
    ]
    if accepted:
        raise ReplayError(
            f"kedro replay: model.accept_leaky_features lets the model read {accepted}: lifetime "
            "totals are known only at the export's extraction, so every month of a "
            "replay would see their final values (the future it replays). Remove "
            "them from model.accept_leaky_features (and from model.features) to replay"
        )


def month_windows(month: Any, replay: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters a month runs with, as runtime parameters (nested).

    Labels are as of ``m - 1``. The batch is the month itself. Retraining
    scores its candidate on the ``score_months`` months ending
    ``score_lag_months`` before ``m - 1`` (the latest whose shortest
    subscriptions have settled) and trains on the ``train_months`` before
    them, with labels as of the month before the scored ones (the project's
    out-of-time rule: the candidate never learns an outcome of the scored
    months).
    """
    m = month_start(month)
    as_of = month_before(m)
    score_end = add_months(as_of, -int(replay["score_lag_months"]))
    score_start = add_months(score_end, -(int(replay["score_months"]) - 1))
    train_end = add_months(score_start, -1)
    train_start = add_months(train_end, -(int(replay["train_months"]) - 1))
    return {
        "labels": {"as_of": _day(as_of)},
        "batch_predict": {"window": {"date_start": _day(m), "date_end": _day(m)}},
        "score": {
            "window": {"date_start": _day(score_start), "date_end": _day(score_end)}
        },
        "train": {
            "window": {"date_start": _day(train_start), "date_end": _day(train_end)},
            "label_as_of": None,
        },
    }


class ReplayError(ValueError):
    """A replay that cannot start or go on, with what to do next."""


def check_months(
    replay_months: list[pd.Timestamp],
    sub_starts: pd.Series,
    currency_dates: pd.Series,
    history_months: int,
    replay: Mapping[str, Any],
    game: str,
    command: str = "kedro replay",
    flags: tuple[str, str] = ("--from", "--to"),
) -> list[str]:
    """Refuse months the data cannot replay; a warning where the first model sees little history.

    ``command`` and its ``flags`` (first month, last month) name what the
    user typed in the messages.
    """
    if sub_starts.empty or currency_dates.empty:
        raise ReplayError(
            f"{command}: the raw tables hold no subscriptions or no currency rows; "
            "write the game's raw data first (kedro run -p sub_churn_synthesize)"
        )
    first_data, last_sub = currency_dates.min(), sub_starts.max()
    span = (
        f"the data of {game} has currency from {first_data:%Y-%m} and "
        f"subscriptions starting up to {last_sub:%Y-%m}"
    )
    if replay_months[-1] > last_sub:
        raise ReplayError(
            f"{command}: {flags[1]} {replay_months[-1]:%Y-%m-%d} has no subscriptions to "
            f"predict: {span}. Give months up to {last_sub:%Y-%m-%d}."
        )
    if replay_months[0] <= first_data:
        raise ReplayError(
            f"{command}: {flags[0]} {replay_months[0]:%Y-%m-%d} leaves nothing to learn "
            f"from: {span}. Start later."
        )
    first_train = month_windows(replay_months[0], replay)["train"]["window"]
    enough = add_months(first_data, history_months)
    start = pd.Timestamp(first_train["date_start"])
    if start >= enough:
        return []
    # the start that moves the first training window onto enough history
    short = (enough.to_period("M") - start.to_period("M")).n
    return [
        f"the first model trains on {first_train['date_start'][:7]}.."
        f"{first_train['date_end'][:7]}, before {history_months} months of currency "
        f"history exist ({span}): its currency features are partly missing and "
        "drift against it may be spurious; start at "
        f"{add_months(replay_months[0], short):%Y-%m-%d} or later, or shorten "
        "replay.train_months"
    ]


def settled_rows(predictions: pd.DataFrame, labels: pd.DataFrame) -> int:
    """How many of a batch's predictions have a settled label in ``labels``."""
    settled = labels.loc[labels["sub_churn"].notna(), "sub_id"]
    return int(predictions["sub_id"].isin(settled).sum())


def month_line(entry: dict, step: int, total: int) -> str:
    """The progress line of a replayed month: its batch, drift, retraining and scored batches."""
    if entry["retrained"]:
        retraining = "retrained, " + (
            "promoted" if entry["promoted"] else "not promoted"
        )
    else:
        retraining = (
            "retraining recommended"
            if entry["retrain_recommended"]
            else "no retraining"
        )
    return (
        f"month {step}/{total} {entry['month'][:7]}: predicted {entry['batch_size']}, "
        f"drift {entry['share_drifted']:.2f}, {retraining}, "
        f"{len(entry['scored_batches'])} earlier batch(es) scored"
    )


def score_settled_batches(
    batches: Mapping[str, pd.DataFrame],
    scores: Mapping[str, Mapping],
    labels: pd.DataFrame,
    features: pd.DataFrame,
    truth: pd.DataFrame,
    threshold: float,
) -> dict[str, dict]:
    """The metrics of every batch with more settled labels than when it was last scored."""
    scored = {}
    for batch_month, predictions in batches.items():
        n_settled = settled_rows(predictions, labels)
        if n_settled == 0 or n_settled <= scores.get(batch_month, {}).get(
            "n_scored", 0
        ):
            continue
        scored[batch_month], _ = batch_metrics(
            predictions, labels, features, truth, threshold
        )
    return scored


def new_timeline(
    game: str,
    env: str,
    replay_months: list[pd.Timestamp],
    rules: Mapping[str, Any],
    drift_share_threshold: float,
    drift_from: str | None,
    warnings: list[str],
) -> dict[str, Any]:
    """The timeline of a replay before its first month."""
    return {
        "game": game,
        "env": env,
        "from": _day(replay_months[0]),
        "to": _day(replay_months[-1]),
        "rules": dict(rules),
        "drift_share_threshold": drift_share_threshold,
        "drift_from": drift_from,
        "warnings": warnings,
        "months": [],
        "batches": {},
    }


def month_entry(
    champion: Mapping[str, Any],
    predictions: pd.DataFrame,
    drift_report: Mapping[str, Any],
    scored: Mapping[str, Mapping],
) -> dict[str, Any]:
    """A month's timeline entry: its champion, batch, drift and the batches scored in it."""
    keep = ("roc_auc", "ece", "oracle_roc_auc", "n_scored", "n_unsettled_excluded")
    return {
        "champion_version": champion["version"],
        "champion_model_id": champion["model_id"],
        "champion_train_window": champion["train_window"],
        "batch_size": len(predictions),
        "share_drifted": drift_report["share_drifted"],
        "drifted_features": drift_report["drifted_features"],
        "prediction_psi": drift_report["prediction"]["psi"],
        "retrain_recommended": drift_report["retrain_recommended"],
        "reasons": drift_report["reasons"],
        "scored_batches": {k: {f: v.get(f) for f in keep} for k, v in scored.items()},
        "retrained": False,
        "promoted": False,
    }


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def timeline_frame(timeline: Mapping[str, Any]) -> pd.DataFrame:
    """One row per replayed month: the batch's latest settled score and the month's events."""
    rows = []
    for entry in timeline["months"]:
        score = timeline["batches"].get(entry["month"]) or {}
        rows.append(
            {
                "month": pd.Timestamp(entry["month"]),
                "champion_version": str(entry.get("champion_version")),
                "roc_auc": _finite(score.get("roc_auc")),
                "oracle_roc_auc": _finite(score.get("oracle_roc_auc")),
                "ece": _finite(score.get("ece")),
                "n_scored": int(score.get("n_scored") or 0),
                "share_drifted": _finite(entry.get("share_drifted")),
                "retrain_recommended": bool(entry.get("retrain_recommended")),
                "retrained": bool(entry.get("retrained")),
                "promoted": bool(entry.get("promoted")),
            }
        )
    return pd.DataFrame(rows)


def timeline_figure(timeline: Mapping[str, Any]) -> Figure:
    """Quality of each month's batch against the oracle, drift share, retraining and promotions."""
    frame = timeline_frame(timeline)
    fig = Figure(figsize=(11, 6.5))
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    x = frame["month"]
    if frame["oracle_roc_auc"].notna().any():
        top.plot(
            x, frame["oracle_roc_auc"], "--", color="tab:gray", label="oracle ROC-AUC"
        )
    top.plot(x, frame["roc_auc"], "-", color="tab:blue", alpha=0.5)
    colours = ("tab:blue", "tab:cyan", "tab:olive", "tab:brown", "tab:pink")
    for i, (version, rows) in enumerate(frame.groupby("champion_version", sort=False)):
        if rows["roc_auc"].isna().all():
            continue  # none of its batches has a settled label yet
        top.plot(
            rows["month"],
            rows["roc_auc"],
            "o",
            color=colours[i % len(colours)],
            label=f"batches of champion v{version}",
        )
    top.set_ylabel("ROC-AUC of the month's batch\n(on its settled labels)")
    width = pd.Timedelta(days=20)
    bottom.bar(
        x,
        frame["share_drifted"].fillna(0),
        width=width,
        color=np.where(frame["retrain_recommended"], "tab:red", "tab:orange"),
    )
    threshold = timeline.get("drift_share_threshold")
    if threshold is not None:
        bottom.axhline(threshold, color="tab:orange", linestyle=":", linewidth=1)
    bottom.set_ylabel("share of features drifted\n(red: retraining recommended)")
    bottom.set_ylim(0, 1)
    marks = [
        (
            x[frame["retrained"]],
            {"color": "tab:purple", "linestyle": "--", "linewidth": 1},
            "retrained",
        ),
        (
            x[frame["promoted"]],
            {"color": "tab:green", "linewidth": 2.5, "alpha": 0.7},
            "promoted",
        ),
    ]
    if timeline.get("drift_from"):
        marks.append(
            (
                [pd.Timestamp(timeline["drift_from"])],
                {"color": "tab:red", "linewidth": 1.5},
                "drift injected",
            )
        )
    for when, style, label in marks:
        for ax in (top, bottom):
            for month in when:
                ax.axvline(month, **style)
        top.plot([], [], label=label, **style)  # one legend entry per kind of mark
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
    top.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.suptitle(
        f"Replay of {timeline['game']}, {x.iloc[0]:%Y-%m} to {x.iloc[-1]:%Y-%m}: "
        f"{int(frame['retrained'].sum())} retraining(s), "
        f"{int(frame['promoted'].sum())} promotion(s)"
    )
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def nan_to_none(value: Any) -> Any:
    """``value`` with every NaN or infinity inside it as ``None`` (JSON has neither)."""
    if isinstance(value, dict):
        return {key: nan_to_none(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [nan_to_none(item) for item in value]
    if isinstance(value, float | np.floating):
        return _finite(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value
