"""Bad raw data stops the Spark path as it stops the pandas path: the file, the column, the rows.

On Spark the rows are named by their values (a bucket does not know its lines
in the file) and nothing downstream of the broken table is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest

from kedro_ml.core.validation import RawDataError
from tests.conftest import _copy_project, run_kedro
from tests.spark.conftest import require_spark
from tests.spark.tables import assert_same_table, read_table

pytestmark = [pytest.mark.spark, pytest.mark.slow]

RAW = Path("data/01_raw")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    require_spark()
    project = _copy_project(tmp_path / "project")
    monkeypatch.chdir(project)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{project / 'mlflow.db'}")
    yield project


def _edit(
    project: Path, file: str, change: Callable[[pd.DataFrame], pd.DataFrame]
) -> None:
    path = project / RAW / file
    change(pd.read_csv(path, dtype=str, keep_default_na=False)).to_csv(
        path, index=False
    )


def _set(row: int, column: str, value: str):
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[row, column] = value
        return frame

    return change


CASES = {
    "negative term": (
        "sub_data.csv",
        _set(100, "sub_months", "-3"),
        "sub_data.csv (dataset 'sub_data'), column 'sub_months': must be >= 0",
        "sub_months='-3'",
    ),
    "text in a balance": (
        "character_currency.csv",
        _set(7, "hard_balance", "lots"),
        "character_currency.csv (dataset 'character_currency'), column 'hard_balance': "
        "expected a number",
        "hard_balance='lots'",
    ),
    "balance past float32": (
        "character_currency.csv",
        _set(7, "soft_balance", "1e39"),
        "column 'soft_balance': must fit its stored type float32",
        "soft_balance='1e39'",
    ),
    "currency of an unknown character": (
        "character_currency.csv",
        _set(3, "char_id", "999999"),
        "column 'char_id': refers to ids missing from character_data.csv",
        "char_id=999999",
    ),
    "a gender outside the contract": (
        "character_data.csv",
        _set(5, "gender", "X"),
        "column 'gender': must be one of ['M', 'F', 'N']",
        "gender='X'",
    ),
    "a date in the future": (
        "sub_miss.csv",
        _set(0, "end_date", "2999-01-01"),
        "column 'end_date': must not be dated after today",
        "end_date='2999-01-01'",
    ),
    # two characters' subscriptions sharing an id land in different buckets:
    # the key is checked across buckets in Spark
    "one sub_id for two characters": (
        "sub_data.csv",
        lambda f: f.assign(
            sub_id=f["sub_id"].where(f.index != 500, f.loc[0, "sub_id"])
        ),
        "column 'sub_id': must be unique (duplicate key)",
        "row: sub_id=",
    ),
    "a missing column": (
        "character_data.csv",
        lambda f: f.drop(columns="territory"),
        "character_data.csv (dataset 'characters'): missing column(s) ['territory']",
        "",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_raw_data_is_named(project: Path, case: str) -> None:
    file, change, message, row = CASES[case]
    _edit(project, file, change)
    with pytest.raises(RawDataError) as raised:
        run_kedro(project, "sub_churn_standard_features", env="spark_env")
    text = str(raised.value)
    assert message in text
    assert row in text
    assert "line " not in text  # no line numbers a bucket cannot know
    # the feature store is not written from bad data
    assert not (project / "data/spark/03_primary/sub_churn_primary.parquet").exists()


def test_impossible_rows_dropped_alike(project: Path) -> None:
    """With ``validation.impossible_rows: drop``, both paths leave out the same rows."""
    _edit(project, "sub_data.csv", _set(0, "sub_start_date", "2010-01-01"))
    params = {"validation": {"impossible_rows": "drop"}}
    run_kedro(project, "sub_churn_standard_features", params=params)
    run_kedro(project, "sub_churn_standard_features", env="spark_env", params=params)
    data = project / "data"
    pandas_primary = read_table(data / "03_primary/sub_churn_primary.parquet")
    assert 1 not in set(pandas_primary["sub_id"])
    for relative, key in (
        ("03_primary/sub_churn_primary.parquet", ["sub_id"]),
        ("02_intermediate/sub_miss.parquet", ["sub_id", "start_date"]),
    ):
        assert_same_table(
            read_table(data / relative), read_table(data / "spark" / relative), key
        )


def test_a_game_on_spark(project: Path) -> None:
    """A game's Spark environment: the game's files beside spark_env's (README, Past one machine)."""
    combined = project / "conf/game2_spark_env"
    combined.mkdir()
    for source in ("game2_env", "spark_env"):
        for file in (project / "conf" / source).iterdir():
            (combined / file.name).write_text(file.read_text())
    run_kedro(project, "sub_churn_standard_features", env="game2_env")
    run_kedro(project, "sub_churn_standard_features", env="game2_spark_env")
    data = project / "data/game2"
    assert_same_table(
        read_table(data / "03_primary/sub_churn_primary.parquet"),
        read_table(data / "spark/03_primary/sub_churn_primary.parquet"),
        ["sub_id"],
    )
