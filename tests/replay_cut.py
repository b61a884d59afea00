"""An independent cut of raw exports at the close of a month, from the CSV text alone.

The reference for ``kedro_ml.core.replay.raw_as_of``: no pandas, no project
code; dates compared as ISO strings. An export taken on the last day of month
``m`` holds every row dated on or before that day: characters created by then
(a mastery dated later is blank), subscriptions started by ``m`` whose
character it holds, missed-month runs of those subscriptions begun by ``m``
(a run's end after ``m`` reads ``m``), currency rows dated by ``m``.
"""

from __future__ import annotations

import calendar
import csv
from pathlib import Path

FILES = {
    "characters": "character_data.csv",
    "sub_data": "sub_data.csv",
    "sub_miss": "sub_miss.csv",
    "character_currency": "character_currency.csv",
}


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def cut(raw: Path, month: str) -> dict[str, list[dict[str, str]]]:
    """The rows of the four raw files in ``raw`` an export at the close of ``month`` holds."""
    year, mon = int(month[:4]), int(month[5:7])
    last_day = f"{month[:8]}{calendar.monthrange(year, mon)[1]:02d}"
    first_day = f"{month[:8]}01"
    characters = []
    for row in _read(raw / FILES["characters"]):
        if row["creation_date"] <= last_day:
            mastered = row["class_mastery_date"]
            characters.append(
                {**row, "class_mastery_date": "" if mastered > last_day else mastered}
            )
    chars = {row["char_id"] for row in characters}
    subs = [
        row
        for row in _read(raw / FILES["sub_data"])
        if row["sub_start_date"] <= first_day and row["char_id"] in chars
    ]
    sub_ids = {row["sub_id"] for row in subs}
    miss = []
    for row in _read(raw / FILES["sub_miss"]):
        if row["start_date"] <= first_day and row["sub_id"] in sub_ids:
            miss.append({**row, "end_date": min(row["end_date"], first_day)})
    currency = [
        row
        for row in _read(raw / FILES["character_currency"])
        if row["date"] <= first_day and row["char_id"] in chars
    ]
    return {
        "characters": characters,
        "sub_data": subs,
        "sub_miss": miss,
        "character_currency": currency,
    }


def _canonical(value: str) -> str:
    """A field as a value: numbers compared as numbers (``100`` and ``100.0`` alike)."""
    try:
        number = float(value)
    except ValueError:
        return value
    return repr(number)


def rows_of(path: Path) -> list[tuple[str, ...]]:
    """The rows of a raw CSV file, sorted, each field canonical."""
    return sorted(tuple(_canonical(v) for v in row.values()) for row in _read(path))


def same_as_cut(folder: Path, expected: dict[str, list[dict[str, str]]]) -> list[str]:
    """How the raw files in ``folder`` differ from ``expected`` (empty when equal)."""
    differences = []
    for name, file in FILES.items():
        got = rows_of(folder / file)
        want = sorted(
            tuple(_canonical(v) for v in row.values()) for row in expected[name]
        )
        if got != want:
            extra = sorted(set(got) - set(want))[:3]
            lost = sorted(set(want) - set(got))[:3]
            differences.append(
                f"{file}: {len(got)} rows, the cut has {len(want)}; "
                f"not in the cut {extra}, missing {lost}"
            )
    return differences
