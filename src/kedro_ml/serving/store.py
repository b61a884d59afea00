"""The online store: one SQLite file, read by character id in well under a millisecond.

What it holds is ``kedro_ml.core.online.store_tables``: per character, the
template of its feature row as of the store's month, and the template of a
character without history. In the file:

* ``templates``: ``char_id INTEGER PRIMARY KEY``, ``numbers`` (the template's
  numeric columns packed as one NumPy record, each in its own dtype: the
  values batch prediction computes, bit for bit) and one TEXT column per text
  feature;
* ``meta``: the month the store is as of, the feature windows, the record's
  layout (``numeric_columns``, ``numeric_dtypes``, ``text_columns``), the
  newcomer's template, when it was written.

``write_store`` builds a new file beside the old one and renames it into
place, so a reader never sees half of it; ``OnlineStore`` notices the new file
on its next lookup and reads from it from then on.

Another backend needs the same two operations. In Redis: one key per
character (``churn:<game>:<char_id>``) whose value is the packed record and
the text columns (a hash, or the record followed by JSON), written by the
refresh pipeline with ``MSET`` in a pipeline transaction, read with ``MGET``;
the meta under its own key. In a warehouse or OLTP database: a table keyed by
``char_id`` with one column per feature, swapped in by a rename inside a
transaction; a server reads the requested ids with one ``WHERE char_id IN``.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from kedro_ml.files import atomic_path

_CHUNK = 900  # SQLite's limit on host parameters is 999
TABLE = "templates"


class StoreError(RuntimeError):
    """The online store is missing, unreadable, or does not fit the model."""


def _layout(frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """The numeric and the text columns of a template frame (``char_id`` aside)."""
    numeric, text = [], []
    for column in frame.columns.drop("char_id", errors="ignore"):
        kind = frame[column].dtype.kind
        if kind in "iufb":
            numeric.append(column)
        elif kind in "OUT" or pd.api.types.is_string_dtype(frame[column]):
            text.append(column)
        else:
            raise ValueError(
                f"online store: column '{column}' has dtype {frame[column].dtype}, "
                "neither numeric nor text"
            )
    return numeric, text


def _records(frame: pd.DataFrame, numeric: list[str], dtype: np.dtype) -> np.ndarray:
    records = np.empty(len(frame), dtype=dtype)
    for column in numeric:
        records[column] = frame[column].to_numpy()
    return records


def write_store(
    path: str | Path, tables: Mapping[str, pd.DataFrame], meta: dict
) -> None:
    """Write ``tables`` (``templates``, ``newcomer``) and ``meta`` to ``path``, replacing it whole."""
    path = Path(path)
    templates, lone = tables["templates"], tables["newcomer"]
    numeric, text = _layout(templates)
    if sorted(_layout(lone)[0] + _layout(lone)[1]) != sorted(numeric + text):
        raise ValueError("online store: the newcomer's template has other columns")
    dtype = np.dtype([(column, templates[column].dtype) for column in numeric])
    records = _records(templates, numeric, dtype)
    meta = {
        **meta,
        "numeric_columns": numeric,
        "numeric_dtypes": [templates[column].dtype.str for column in numeric],
        "text_columns": text,
        # the newcomer's values, in JSON (NaN as null)
        "newcomer": {
            column: (None if pd.isna(value) else value)
            for column, value in lone.iloc[0].items()
            if column in numeric or column in text
        },
        "characters": len(templates),
    }
    with atomic_path(path) as temporary:  # whole or not at all, journal included
        with contextlib.closing(sqlite3.connect(temporary)) as connection, connection:
            text_defs = "".join(f', "{column}" TEXT' for column in text)
            connection.execute(
                f"CREATE TABLE {TABLE} (char_id INTEGER PRIMARY KEY, numbers BLOB{text_defs})"
            )
            marks = ",".join("?" * (2 + len(text)))
            ids = templates["char_id"].to_numpy(dtype=np.int64).tolist()
            texts = [templates[column].astype(object).to_numpy() for column in text]
            connection.executemany(
                f"INSERT INTO {TABLE} VALUES ({marks})",
                (
                    (char_id, record.tobytes(), *(t[i] for t in texts))
                    for i, (char_id, record) in enumerate(
                        zip(ids, records, strict=True)
                    )
                ),
            )
            connection.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
            connection.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [
                    (key, json.dumps(value, default=_json))
                    for key, value in meta.items()
                ],
            )


def _json(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON: {value!r}")


class _Snapshot:
    """One version of the store file, open read-only."""

    def __init__(self, path: Path, stat: os.stat_result) -> None:
        self.stat = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        self.connection = sqlite3.connect(
            f"file:{path}?mode=ro", uri=True, check_same_thread=False
        )
        try:
            rows = self.connection.execute("SELECT key, value FROM meta").fetchall()
        except sqlite3.DatabaseError as error:
            self.connection.close()
            raise StoreError(
                f"the online store at {path} cannot be read ({error}): rewrite it with "
                "`kedro run -p sub_churn_refresh_online_store`"
            ) from None
        try:
            self.meta = {key: json.loads(value) for key, value in rows}
            self.as_of = pd.Timestamp(self.meta["as_of"])
            self.numeric = list(self.meta["numeric_columns"])
            self.text = list(self.meta["text_columns"])
            self.dtype = np.dtype(
                list(zip(self.numeric, self.meta["numeric_dtypes"], strict=True))
            )
            lone = self.meta["newcomer"]
            self.newcomer = {
                column: np.nan if lone[column] is None else lone[column]
                for column in self.numeric + self.text
            }
        except (KeyError, TypeError, ValueError) as error:
            self.connection.close()
            raise StoreError(
                f"the online store at {path} is not one this version wrote "
                f"({error.__class__.__name__}: {error}): rewrite it with "
                "`kedro run -p sub_churn_refresh_online_store`"
            ) from None
        columns = ",".join(f'"{column}"' for column in self.text)
        self.select = (
            f"SELECT char_id, numbers{',' if columns else ''}{columns} FROM {TABLE}"
        )

    @property
    def columns(self) -> list[str]:
        return self.numeric + self.text


class OnlineStore:
    """Read access to a store file: its ``meta`` and the templates of some characters."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._snapshot = self._open()

    def _open(self) -> _Snapshot:
        try:
            stat = self.path.stat()
        except OSError:
            raise StoreError(
                f"there is no online store at {self.path}: write it with "
                "`kedro run -p sub_churn_refresh_online_store`"
            ) from None
        return _Snapshot(self.path, stat)

    def _current(self) -> _Snapshot:
        """The snapshot of the file now in place (reopened when a refresh replaced it)."""
        snapshot = self._snapshot
        try:
            stat = self.path.stat()
        except OSError:
            return snapshot  # moved away mid-refresh: the open file still answers
        if (stat.st_ino, stat.st_mtime_ns, stat.st_size) != snapshot.stat:
            with self._lock:
                if self._snapshot is snapshot:
                    self._snapshot = self._open()
                    snapshot.connection.close()
            snapshot = self._snapshot
        return snapshot

    @property
    def meta(self) -> dict:
        return self._current().meta

    @property
    def as_of(self) -> pd.Timestamp:
        return self._current().as_of

    @property
    def columns(self) -> list[str]:
        """The columns a template holds."""
        return self._current().columns

    def templates(
        self, char_ids: np.ndarray
    ) -> tuple[dict[str, np.ndarray], np.ndarray, pd.Timestamp]:
        """The template of each character (in ``char_ids``' order), which ones the store knows, and its month.

        A character the store does not know gets the newcomer's template.
        """
        snapshot = self._current()
        ids = np.asarray(char_ids, dtype=np.int64)
        wanted = np.unique(ids).tolist()
        rows: list[tuple] = []
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            rows += snapshot.connection.execute(
                f"{snapshot.select} WHERE char_id IN ({','.join('?' * len(chunk))})",
                chunk,
            ).fetchall()
        position = {row[0]: i for i, row in enumerate(rows)}
        at = np.fromiter(
            (position.get(i, -1) for i in ids.tolist()), np.int64, len(ids)
        )
        known = at >= 0
        if rows:
            packed = np.frombuffer(b"".join(row[1] for row in rows), snapshot.dtype)
            records = packed[np.where(known, at, 0)]
        else:
            records = np.zeros(len(ids), snapshot.dtype)
        out: dict[str, np.ndarray] = {}
        for column in snapshot.numeric:
            values = records[column]
            if not known.all():
                lone = snapshot.newcomer[column]
                if isinstance(lone, float) and values.dtype.kind in "iub":
                    values = values.astype(np.float64)  # a missing fact: NaN
                values[~known] = lone
            out[column] = values
        for j, column in enumerate(snapshot.text, start=2):
            # a missing fact is NaN, as in the batch feature table (SQLite keeps NULL)
            values = np.array(
                [np.nan if row[j] is None else row[j] for row in rows] or [np.nan],
                dtype=object,
            )
            values = values[np.where(known, at, 0)]
            values[~known] = snapshot.newcomer[column]
            out[column] = values
        return out, known, snapshot.as_of


def check_store_game(path: str | Path, game: str) -> None:
    """Refuse to serve ``game`` with a store written for another game (its meta says which).

    A store that cannot be opened is left to ``/health`` and the requests,
    which say so; a store without a game (written before it was recorded) passes.
    """
    try:
        written_for = OnlineStore(path).meta.get("game")
    except StoreError:
        return
    if written_for and written_for != game:
        raise StoreError(
            f"the online store {path} was written for {written_for}, not {game}: "
            f"refresh it for {game} (kedro run -p sub_churn_refresh_online_store with "
            f"{game}'s environment) or serve {written_for}"
        )


def check_store_model(path: str | Path, meta: Mapping, model_id: str | None) -> None:
    """Refuse a store refreshed for another model than ``model_id`` (its meta says which).

    The store is refreshed for the champion; after a promotion the server and
    the store move together (refresh the store, restart the server).
    """
    written_for = meta.get("model_id")
    if model_id is None or written_for == model_id:
        return
    refresh = (
        "refresh it for the model served (kedro run -p sub_churn_refresh_online_store "
        "after the promotion) and serve both together"
    )
    if written_for is None:
        raise StoreError(
            f"the online store {path} does not say which model it was refreshed "
            f"for (written by an older version): {refresh}"
        )
    raise StoreError(
        f"the online store {path} was refreshed for model {written_for} "
        f"({meta.get('model_source', 'source unknown')}), not for the model served "
        f"({model_id}): {refresh}"
    )
