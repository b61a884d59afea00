"""``kedro_ml.spark.buckets``: each character's rows in one bucket, types across Arrow, errors back."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kedro_ml.core.validation import RawDataError

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark():
    from tests.spark.conftest import require_spark

    require_spark()
    from kedro_ml.hooks.spark import start_session

    return start_session(
        {
            "spark.master": "local[2]",
            "spark.sql.session.timeZone": "UTC",
            "spark.sql.timestampType": "TIMESTAMP_NTZ",
            "spark.sql.execution.arrow.pyspark.enabled": True,
            "spark.sql.shuffle.partitions": 4,
            "spark.ui.enabled": False,
            "spark.ui.showConsoleProgress": False,
        }
    )


def test_a_character_never_spans_two_buckets(spark) -> None:
    from kedro_ml.spark.buckets import apply_by_key

    rng = np.random.default_rng(0)
    subs = pd.DataFrame(
        {"char_id": rng.integers(0, 50, 400).astype(np.int32), "x": rng.random(400)}
    )
    # the second table holds the ids as raw text, some written as decimals
    chars = pd.DataFrame(
        {"char_id": [f"{i}.0" if i % 2 else str(i) for i in range(50)]}
    )

    def per_bucket(left: pd.DataFrame, right: pd.DataFrame) -> pd.DataFrame:
        ids = pd.to_numeric(right["char_id"]).astype(np.int32)
        return (
            left.groupby("char_id", as_index=False)
            .agg(n=("x", "size"), total=("x", "sum"))
            .assign(known=lambda f: f["char_id"].isin(ids))
        )

    out = apply_by_key(
        per_bucket,
        [spark.createDataFrame(subs), spark.createDataFrame(chars)],
        "char_id",
    ).toPandas()
    expected = subs.groupby("char_id", as_index=False).agg(
        n=("x", "size"), total=("x", "sum")
    )
    out = out.sort_values("char_id").reset_index(drop=True)
    assert out["char_id"].is_unique  # one bucket per character
    assert out["n"].tolist() == expected["n"].tolist()
    np.testing.assert_allclose(out["total"], expected["total"])
    assert out["known"].all()  # "7.0" and 7 meet in one bucket


def test_types_cross_to_spark_and_back(spark) -> None:
    """What the pandas functions return keeps its meaning in Spark and back."""
    from kedro_ml.spark.buckets import apply_by_key, to_pandas

    def typed(part: pd.DataFrame) -> pd.DataFrame:
        part = part.sort_values("char_id").reset_index(drop=True)
        n = len(part)
        return part.assign(
            kind=pd.Categorical((["a", None, "b"] * n)[:n]),
            day=pd.Series(
                pd.to_datetime((["2017-01-01", None, "2017-03-01"] * n)[:n])
            ).astype("datetime64[s]"),
            value=np.array(([1.5, np.nan, 2.5] * n)[:n], dtype=np.float32),
            label=pd.array(([1, None, 0] * n)[:n], dtype="Int8"),
        )

    frame = spark.createDataFrame(
        pd.DataFrame({"char_id": np.zeros(3, dtype=np.int32)})
    )
    out = apply_by_key(typed, [frame], "char_id")
    assert dict(out.dtypes) == {
        "char_id": "int",
        "kind": "string",
        "day": "timestamp_ntz",
        "value": "float",
        "label": "tinyint",
    }
    back = to_pandas(out)
    assert back["kind"].isna().tolist() == [False, True, False]
    assert back["value"].isna().tolist() == [False, True, False]  # NaN arrives as NULL
    assert back["label"].isna().tolist() == [False, True, False]
    assert back["day"].dtype == "datetime64[s]"
    assert back.loc[2, "day"] == pd.Timestamp("2017-03-01")


def test_strings_in_several_arrow_chunks_reach_spark(spark) -> None:
    """Large buckets give string columns of several chunks (pyarrow's take, concat)."""
    import pyarrow as pa

    from kedro_ml.spark.buckets import apply_by_key

    def chunked(part: pd.DataFrame) -> pd.DataFrame:
        names = pa.chunked_array(
            [["a"] * (len(part) // 2), ["b"] * (len(part) - len(part) // 2)]
        )
        return part.assign(
            name=pd.Series(pd.array(names, dtype="str"), index=part.index)
        )

    frame = spark.createDataFrame(
        pd.DataFrame({"char_id": np.zeros(10, dtype=np.int32)})
    )
    out = apply_by_key(chunked, [frame], "char_id").toPandas()
    assert sorted(out["name"]) == ["a"] * 5 + ["b"] * 5


def test_a_rule_broken_in_a_worker_comes_back_named(spark) -> None:
    from kedro_ml.spark.buckets import apply_by_key, materialise

    frame = spark.createDataFrame(
        pd.DataFrame({"char_id": np.arange(40, dtype=np.int32)})
    )

    def check(part: pd.DataFrame) -> pd.DataFrame:
        if (part["char_id"] == 33).any():
            raise RawDataError("data.csv, column 'char_id': 33 is not allowed")
        return part

    with pytest.raises(RawDataError, match="column 'char_id': 33 is not allowed"):
        materialise(
            apply_by_key(check, [frame], "char_id", schema="char_id int"), "check"
        )


def test_schema_names_a_column_spark_cannot_hold() -> None:
    from tests.spark.conftest import require_spark

    require_spark()
    from kedro_ml.spark.buckets import spark_schema

    with pytest.raises(TypeError, match="column 'when'"):
        spark_schema(pd.DataFrame({"when": pd.to_timedelta([1], unit="D")}))


def test_a_spark_table_is_written_whole_or_not_at_all(spark, tmp_path, monkeypatch):
    """The Spark environment's tables (kedro_ml.datasets.spark_tables): a write that
    dies before taking the table's place leaves the old table, and nothing beside it."""
    from kedro_ml.datasets.spark_tables import SparkDataset

    def table():
        return SparkDataset(
            filepath=str(tmp_path / "t.parquet"),
            file_format="parquet",
            save_args={"mode": "overwrite"},
        )

    table().save(spark.createDataFrame(pd.DataFrame({"a": [1, 2]})))
    monkeypatch.setattr(
        "kedro_ml.files.put_in_place",
        lambda *a: (_ for _ in ()).throw(OSError("killed")),
    )
    with pytest.raises(Exception, match="killed"):
        table().save(spark.createDataFrame(pd.DataFrame({"a": [3, 4, 5]})))
    assert sorted(table().load().toPandas()["a"]) == [1, 2]
    assert [p.name for p in tmp_path.iterdir()] == ["t.parquet"]
    monkeypatch.undo()
    table().save(spark.createDataFrame(pd.DataFrame({"a": [3, 4, 5]})))
    assert sorted(table().load().toPandas()["a"]) == [3, 4, 5]
    assert [p.name for p in tmp_path.iterdir()] == ["t.parquet"]
