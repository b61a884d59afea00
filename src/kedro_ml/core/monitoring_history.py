"""The monitoring history of a game: one row per operated month, and a page that shows it.

A row holds the month's batch (size, share of characters the online store
did not know), its drift (share of features, the prediction's PSI, each
feature's PSI), the champion before and after, the retraining decision, and
the batch's own quality as its labels settle (ROC-AUC, calibration error,
on how many settled rows, and in which month they were last scored).

``history_page`` is a static HTML page (no script, no server): its charts are
inline SVG whose points carry their values (``data-series``, ``data-month``,
``data-value``), and the table below them holds the same numbers.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

BATCH_COLUMNS = (
    "batch_roc_auc",
    "batch_ece",
    "batch_oracle_roc_auc",
    "batch_n_settled",
    "batch_n_unsettled_excluded",
    "batch_scored_in",
)
MONTH_COLUMNS = (
    "month",
    "batch_size",
    "unknown_share",
    "share_drifted",
    "prediction_psi",
    "retrain_recommended",
    "retrained",
    "promoted",
    "champion_version",
    "champion_version_after",
    "candidate_roc_auc",
)
# the charts of the page: a title, and the columns drawn in it
CHARTS = (
    ("Batch size", ("batch_size",)),
    ("Share of the batch the online store did not know", ("unknown_share",)),
    (
        "Drift: share of features drifted, PSI of the prediction",
        ("share_drifted", "prediction_psi"),
    ),
    (
        "Batch ROC-AUC as labels settle (oracle: the true probabilities)",
        ("batch_roc_auc", "batch_oracle_roc_auc"),
    ),
    ("Batch calibration error (ECE)", ("batch_ece",)),
    ("Settled rows behind the batch metrics", ("batch_n_settled",)),
    ("Retraining: the candidate's ROC-AUC on its score window", ("candidate_roc_auc",)),
    (
        "Champion version (after the month's promotion decision)",
        ("champion_version_after",),
    ),
)
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")


def month_step(month: str) -> int:
    """A month as an MLflow step: ``2016-10-01`` is 201610."""
    stamp = pd.Timestamp(month)
    return stamp.year * 100 + stamp.month


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, str):
        try:
            return float(value) if value not in (None, "") else None
        except ValueError:
            return None
    value = float(value)
    return value if math.isfinite(value) else None


def history_frame(
    states: Iterable[Mapping[str, Any]], scores: Mapping[str, Mapping[str, Any]]
) -> pd.DataFrame:
    """One row per operated month (oldest first) from the months' states and the batch scores."""
    rows = []
    for state in sorted(states, key=lambda s: s["month"]):
        row: dict[str, Any] = {
            "month": state["month"],
            "batch_size": state.get("batch_size"),
            "unknown_share": state.get("unknown_share"),
            "share_drifted": state.get("share_drifted"),
            "prediction_psi": state.get("prediction_psi"),
            "retrain_recommended": state.get("retrain_recommended"),
            "retrained": state.get("retrained", False),
            "promoted": state.get("promoted", False),
            "champion_version": _number(state.get("champion_version")),
            "champion_version_after": _number(
                state.get("champion_version_after", state.get("champion_version"))
            ),
            "candidate_roc_auc": state.get("candidate_roc_auc"),
        }
        score = scores.get(state["month"]) or {}
        row.update(
            batch_roc_auc=score.get("roc_auc"),
            batch_ece=score.get("ece"),
            batch_oracle_roc_auc=score.get("oracle_roc_auc"),
            batch_n_settled=score.get("n_scored"),
            batch_n_unsettled_excluded=score.get("n_unsettled_excluded"),
            batch_scored_in=score.get("scored_in"),
        )
        for name, psi in sorted((state.get("feature_psi") or {}).items()):
            row[f"psi.{name}"] = psi
        rows.append(row)
    frame = pd.DataFrame(rows, columns=None if rows else list(MONTH_COLUMNS))
    for column in frame.columns:
        if column not in ("month", "batch_scored_in") and frame[column].dtype == object:
            converted = pd.to_numeric(frame[column], errors="coerce")
            if converted.notna().sum() == frame[column].notna().sum():
                frame[column] = converted
    return frame


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _consecutive(points: list[tuple[int, float]]) -> list[list[tuple[int, float]]]:
    """``points`` in runs of consecutive months: a line joins a run, a gap is a month without a value."""
    runs: list[list[tuple[int, float]]] = []
    for i, v in points:
        if runs and runs[-1][-1][0] == i - 1:
            runs[-1].append((i, v))
        else:
            runs.append([(i, v)])
    return runs


def _chart(title: str, columns: tuple[str, ...], history: pd.DataFrame) -> str:
    """An inline SVG line chart of ``columns`` by month; each point carries its value."""
    width, height, left, right, top, bottom = 600, 190, 56, 36, 40, 34
    months = list(history["month"])
    values = {
        column: [_number(v) for v in history[column]] if column in history else []
        for column in columns
    }
    finite = [v for series in values.values() for v in series if v is not None]
    if finite:
        low, high = min(finite), max(finite)
    else:
        low, high = 0.0, 1.0
    if high == low:
        low, high = low - 0.5, high + 0.5

    def x(i: int) -> float:
        span = max(len(months) - 1, 1)
        return left + (width - left - right) * (i / span if len(months) > 1 else 0.5)

    def y(v: float) -> float:
        return top + (height - top - bottom) * (1 - (v - low) / (high - low))

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{html.escape(title)}">',
        f'<text x="{left}" y="16" class="title">{html.escape(title)}</text>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" '
        f'y2="{height - bottom}" class="axis"/>',
        f'<text x="{left - 6}" y="{y(high) + 4:.1f}" class="tick" text-anchor="end">{high:.4g}</text>',
        f'<text x="{left - 6}" y="{y(low) + 4:.1f}" class="tick" text-anchor="end">{low:.4g}</text>',
    ]
    every = max(1, math.ceil(len(months) / 8))  # at most 8 month labels
    for i, month in enumerate(months):
        if (len(months) - 1 - i) % every:  # the last month always labelled
            continue
        parts.append(
            f'<text x="{x(i):.1f}" y="{height - bottom + 16}" class="tick" '
            f'text-anchor="middle">{html.escape(str(month)[:7])}</text>'
        )
    for k, (column, series) in enumerate(values.items()):
        colour = COLOURS[k % len(COLOURS)]
        points = [(i, v) for i, v in enumerate(series) if v is not None]
        for run in _consecutive(points):
            if len(run) > 1:
                path = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in run)
                parts.append(
                    f'<polyline points="{path}" fill="none" stroke="{colour}" '
                    'stroke-width="2"/>'
                )
        for i, v in points:
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="4" fill="{colour}" '
                f'data-series="{column}" data-month="{months[i]}" data-value="{v!r}">'
                f"<title>{column} {months[i][:7]}: {v:.4g}</title></circle>"
            )
        parts.append(
            f'<text x="{width - 8}" y="{14 + 12 * k}" class="legend" '
            f'text-anchor="end" fill="{colour}">{column}</text>'
        )
    if not finite:
        parts.append(
            f'<text x="{width / 2}" y="{height / 2}" class="tick" text-anchor="middle">'
            "no value yet</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _table(table_id: str, frame: pd.DataFrame, first: str) -> str:
    """``frame`` as an HTML table; each cell names its column (``data-column``)."""
    columns = list(frame.columns)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    body = "\n".join(
        f'<tr data-{first}="{html.escape(str(row[columns[0]]))}">'
        + "".join(
            f'<td data-column="{html.escape(str(c))}">{html.escape(_fmt(row[c]))}</td>'
            for c in columns
        )
        + "</tr>"
        for row in records
    )
    return (
        f'<table id="{table_id}"><thead><tr>{head}</tr></thead>\n'
        f"<tbody>\n{body}\n</tbody></table>"
    )


def history_page(game: str, history: pd.DataFrame) -> str:
    """The monitoring page of ``game``: charts of the history, then its tables."""
    charts = "\n".join(_chart(title, cols, history) for title, cols in CHARTS)
    psi = [c for c in history.columns if c.startswith("psi.")]
    months = history[[c for c in history.columns if c not in psi]]
    features = history.set_index("month")[psi].T
    features.insert(0, "feature", [c.removeprefix("psi.") for c in psi])
    features.columns = ["feature", *[str(m)[:7] for m in history["month"]]]
    if psi:  # the most drifted first
        features = features.assign(_top=features.iloc[:, 1:].max(axis=1))
        features = features.sort_values("_top", ascending=False).drop(columns="_top")
    n = len(history)
    span = (
        f"{history['month'].iloc[0][:7]} to {history['month'].iloc[-1][:7]}"
        if n
        else "none yet"
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Monitoring · {html.escape(game)}</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; color: #222; }}
.charts {{ display: flex; flex-wrap: wrap; gap: 12px; }}
svg.chart {{ border: 1px solid #ddd; background: #fff; }}
.title {{ font-size: 13px; font-weight: bold; }}
.tick, .legend {{ font-size: 11px; }}
.axis {{ stroke: #999; }}
table {{ border-collapse: collapse; font-size: 12px; margin-top: 1em; }}
td, th {{ border: 1px solid #ccc; padding: 2px 6px; text-align: right; }}
</style></head>
<body>
<h1>Monitoring · {html.escape(game)}</h1>
<p>{n} operated month{"s" if n != 1 else ""} ({span}). Batch metrics are over the
subscriptions whose labels have settled (<code>batch_n_settled</code>), updated as more
settle (<code>batch_scored_in</code>); a blank cell is a value not known yet.</p>
<div class="charts">
{charts}
</div>
<h2>By month</h2>
{_table("history", months, "month")}
<h2>Drift per feature (PSI of the batch against the champion's training window)</h2>
{_table("feature-drift", features, "feature")}
</body></html>
"""
