"""The online store file: written whole, read back bit for bit, refreshed under a reader."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from kedro_ml.serving.store import OnlineStore, StoreError, write_store


def _tables(scale: float = 1.0) -> dict[str, pd.DataFrame]:
    templates = pd.DataFrame(
        {
            "char_id": np.array([3, 1, 2], dtype=np.int64),
            "age_months": np.array([5, 0, 12], dtype=np.int32),
            "mastered": np.array([1, 0, 0], dtype=np.int8),
            "hard_balance_last": np.array([0.1, np.nan, 1e300]) * scale,
            "soft_balance_mean_3m": np.array([1 / 3, 2 / 3, -0.0], dtype=np.float64),
            "gender": np.array(["F", np.nan, "M"], dtype=object),
        }
    )
    newcomer = pd.DataFrame(
        {
            "age_months": np.array([0], dtype=np.int32),
            "mastered": np.array([0], dtype=np.int8),
            "hard_balance_last": [np.nan],
            "soft_balance_mean_3m": [np.nan],
            "gender": np.array([np.nan], dtype=object),
        }
    )
    return {"templates": templates, "newcomer": newcomer}


META = {"as_of": "2017-05-01", "windows_months": [1, 3], "game": "game1"}


def test_templates_come_back_bit_for_bit_in_request_order(tmp_path):
    path = tmp_path / "store.sqlite"
    write_store(path, _tables(), META)
    store = OnlineStore(path)
    assert store.as_of == pd.Timestamp("2017-05-01")
    assert store.meta["windows_months"] == [1, 3] and store.meta["characters"] == 3
    columns, known, as_of = store.templates(np.array([2, 3, 2, 1]))
    assert known.tolist() == [True, True, True, True]
    assert as_of == pd.Timestamp("2017-05-01")
    expected = _tables()["templates"].set_index("char_id").loc[[2, 3, 2, 1]]
    for column in (
        "age_months",
        "mastered",
        "hard_balance_last",
        "soft_balance_mean_3m",
    ):
        assert columns[column].dtype == expected[column].dtype, column
        np.testing.assert_array_equal(columns[column], expected[column].to_numpy())
    # -0.0 and 1/3 exactly, not their decimal print
    assert np.signbit(columns["soft_balance_mean_3m"][0])
    assert columns["gender"][1] == "F" and columns["gender"][0] == "M"
    assert pd.isna(columns["gender"][3])


def test_an_unknown_character_gets_the_newcomer_template(tmp_path):
    path = tmp_path / "store.sqlite"
    write_store(path, _tables(), META)
    columns, known, _ = OnlineStore(path).templates(np.array([1, 999]))
    assert known.tolist() == [True, False]
    assert columns["age_months"].tolist() == [0, 0]
    assert np.isnan(columns["hard_balance_last"]).all()
    assert pd.isna(columns["gender"]).all()
    # only unknown characters: nothing from the table at all
    columns, known, _ = OnlineStore(path).templates(np.array([7, 8]))
    assert not known.any() and columns["mastered"].tolist() == [0, 0]


def test_a_refresh_is_picked_up_by_an_open_store(tmp_path):
    path = tmp_path / "store.sqlite"
    write_store(path, _tables(), META)
    store = OnlineStore(path)
    before = store.templates(np.array([3]))[0]["hard_balance_last"][0]
    write_store(path, _tables(scale=2.0), {**META, "as_of": "2017-06-01"})
    columns, _, as_of = store.templates(np.array([3]))
    assert as_of == pd.Timestamp("2017-06-01")
    assert columns["hard_balance_last"][0] == 2 * before
    # no partial file left beside it
    assert [p.name for p in tmp_path.iterdir()] == ["store.sqlite"]


def test_a_failed_write_keeps_the_old_store(tmp_path):
    path = tmp_path / "store.sqlite"
    write_store(path, _tables(), META)
    broken = _tables()
    broken["newcomer"] = broken["newcomer"].drop(columns="gender")
    with pytest.raises(ValueError, match="newcomer"):
        write_store(path, broken, META)
    assert OnlineStore(path).meta["characters"] == 3
    assert [p.name for p in tmp_path.iterdir()] == ["store.sqlite"]


def test_a_missing_or_corrupt_store_is_a_store_error_saying_what_to_run(tmp_path):
    with pytest.raises(StoreError, match="sub_churn_refresh_online_store"):
        OnlineStore(tmp_path / "absent.sqlite")
    corrupt = tmp_path / "corrupt.sqlite"
    corrupt.write_bytes(b"not a database" * 100)
    with pytest.raises(StoreError, match="cannot be read"):
        OnlineStore(corrupt)
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    with pytest.raises(StoreError, match="cannot be read"):
        OnlineStore(empty)


def test_a_store_file_moved_away_keeps_answering_from_the_open_file(tmp_path):
    path = tmp_path / "store.sqlite"
    write_store(path, _tables(), META)
    store = OnlineStore(path)
    os.rename(path, tmp_path / "elsewhere.sqlite")
    assert store.templates(np.array([1]))[1].tolist() == [True]


def test_a_store_of_another_layout_is_a_store_error(tmp_path):
    import sqlite3

    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        connection.execute("""INSERT INTO meta VALUES ('as_of', '"2017-05-01"')""")
    with pytest.raises(StoreError, match="not one this version wrote"):
        OnlineStore(path)


def test_a_store_written_for_another_game_is_refused_naming_both(tmp_path):
    from kedro_ml.serving.store import check_store_game

    path = tmp_path / "store.sqlite"
    write_store(path, _tables(), {**META, "game": "game2"})
    check_store_game(path, "game2")
    with pytest.raises(StoreError, match="written for game2, not game1"):
        check_store_game(path, "game1")
    check_store_game(tmp_path / "missing.sqlite", "game1")  # left to /health


def test_a_store_refreshed_for_another_model_is_refused_naming_both(tmp_path):
    from kedro_ml.serving.store import check_store_model

    path = tmp_path / "store.sqlite"
    meta = {**META, "model_id": "abc", "model_source": "models:/m@champion (version 3)"}
    check_store_model(path, meta, "abc")
    with pytest.raises(StoreError) as refused:
        check_store_model(path, meta, "def")
    message = str(refused.value)
    assert "abc" in message and "def" in message and "version 3" in message
    assert "sub_churn_refresh_online_store" in message
    # a store that does not say (written before stores recorded their model)
    with pytest.raises(StoreError, match="does not say which model"):
        check_store_model(path, META, "def")
