"""The raw CSV dataset: the public format written, typed loads, the optional side file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest
from kedro.io import DatasetError

from kedro_ml.datasets.arrow_csv import ArrowCSVDataset, OptionalCSVDataset


def test_arrow_csv_writes_the_public_format(tmp_path):
    path = tmp_path / "t.csv"
    frame = pd.DataFrame(
        {
            "id": [1, 2],
            "price": [9.99, np.nan],
            "size": [100.0, 250.0],
            "kind": pd.Categorical(["soft", "hard"]),
            "month": pd.to_datetime(["2016-01-01", None]),
        }
    )
    ArrowCSVDataset(filepath=str(path)).save(frame)
    assert path.read_text() == (
        "id,price,size,kind,month\n1,9.99,100,soft,2016-01-01\n2,,250,hard,\n"
    )


def test_arrow_csv_quotes_only_when_a_value_needs_it(tmp_path):
    path = tmp_path / "t.csv"
    frame = pd.DataFrame({"name": ["a,b", 'say "hi"'], "n": [1, 2]})
    dataset = ArrowCSVDataset(filepath=str(path))
    dataset.save(frame)
    pdt.assert_frame_equal(dataset.load(), frame, check_dtype=False)


def test_arrow_csv_keeps_a_time_of_day(tmp_path):
    path = tmp_path / "t.csv"
    frame = pd.DataFrame(
        {"at": pd.to_datetime(["2016-01-01 10:30", "2016-01-02 00:00"])}
    )
    ArrowCSVDataset(filepath=str(path)).save(frame)
    assert "10:30:00" in path.read_text()


def test_arrow_csv_round_trips_through_the_raw_loader(tmp_path):
    path = tmp_path / "t.csv"
    frame = pd.DataFrame(
        {"char_id": [3, 1], "date": pd.to_datetime(["2016-02-01", "2016-03-01"])}
    )
    dataset = ArrowCSVDataset(filepath=str(path), load_args={"parse_dates": ["date"]})
    dataset.save(frame)
    loaded = dataset.load()
    assert loaded["char_id"].tolist() == [3, 1]
    assert loaded["date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2016-02-01",
        "2016-03-01",
    ]


def test_arrow_csv_loads_declared_types(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,kind,month,n\n1,soft,2016-01-01,3\n2,,2016-02-01,\n")
    loaded = ArrowCSVDataset(
        filepath=str(path),
        load_args={
            "parse_dates": ["month"],
            "dtype": {"kind": "category", "id": "int32"},
        },
    ).load()
    assert loaded["id"].dtype == "int32"
    assert isinstance(loaded["kind"].dtype, pd.CategoricalDtype)
    assert loaded["kind"].isna().tolist() == [False, True]
    assert loaded["month"].dtype == "datetime64[s]"
    assert loaded["n"].isna().tolist() == [False, True]


def test_arrow_csv_reads_values_that_break_the_declared_types_as_text(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,month\n1,2016-01-01\n2,2016-13-45\n")
    loaded = ArrowCSVDataset(
        filepath=str(path), load_args={"parse_dates": ["month"]}
    ).load()
    # validation downstream names the row; the loader does not fail
    assert loaded["month"].tolist() == ["2016-01-01", "2016-13-45"]


def test_arrow_csv_rejects_load_args_it_does_not_apply(tmp_path):
    with pytest.raises(DatasetError, match="sep"):
        ArrowCSVDataset(filepath=str(tmp_path / "t.csv"), load_args={"sep": ";"})


def test_optional_csv_is_empty_without_its_file(tmp_path):
    dataset = OptionalCSVDataset(
        filepath=str(tmp_path / "missing.csv"), columns=["sub_id", "p"]
    )
    loaded = dataset.load()
    assert loaded.empty and list(loaded.columns) == ["sub_id", "p"]


def test_arrow_csv_quotes_a_header_name_that_needs_it(tmp_path):
    path = tmp_path / "t.csv"
    ArrowCSVDataset(filepath=str(path)).save(pd.DataFrame({"a,b": [1], "c": ["x"]}))
    assert path.read_text() == '"a,b","c"\n1,"x"\n'


def _csv_at(tmp_path, where: str, text: bytes) -> str:
    """``text`` written as a CSV on the local disk or on fsspec's memory filesystem."""
    if where == "local":
        (tmp_path / "t.csv").write_bytes(text)
        return str(tmp_path / "t.csv")
    import fsspec

    filepath = f"memory:///{tmp_path.name}/t.csv"
    with fsspec.open(filepath, "wb") as file:
        file.write(text)
    return filepath


@pytest.mark.parametrize("where", ["local", "memory"])
def test_arrow_csv_loads_the_same_from_a_local_file_and_through_fsspec(tmp_path, where):
    """Local files are read by pyarrow itself, other filesystems through fsspec."""
    text = b"id,kind,month\n1,soft,2016-01-01\n2,,2016-02-01\n3,hard,2016-13-45\n"
    dataset = ArrowCSVDataset(
        filepath=_csv_at(tmp_path, where, text),
        load_args={"parse_dates": ["month"], "dtype": {"kind": "category"}},
    )
    loaded = dataset.load()  # a month that is no date: read again as text
    assert loaded["id"].tolist() == [1, 2, 3]
    assert loaded["month"].tolist() == ["2016-01-01", "2016-02-01", "2016-13-45"]
    assert loaded["kind"].isna().tolist() == [False, True, False]


@pytest.mark.parametrize("where", ["local", "memory"])
def test_arrow_csv_names_the_line_of_a_bad_row_wherever_the_file_is(tmp_path, where):
    filepath = _csv_at(tmp_path, where, b"id,kind\n1,soft\n2,hard,extra\n")
    with pytest.raises(DatasetError, match=r"t\.csv.*line 3"):
        ArrowCSVDataset(filepath=filepath).load()
