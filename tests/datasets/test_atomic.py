"""Every write is whole or not at all: each dataset the project writes, and the catalog's choice of them."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import yaml  # noqa: E402
from kedro.io.core import DatasetError, Version  # noqa: E402

from kedro_ml.datasets import atomic  # noqa: E402
from kedro_ml.datasets.arrow_csv import ArrowCSVDataset  # noqa: E402
from kedro_ml.datasets.online_store import OnlineStoreDataset  # noqa: E402
from kedro_ml.datasets.versioned import VersionedParquetDataset  # noqa: E402
from tests.conftest import PROJECT_ROOT  # noqa: E402

# The dataset types that write whole files, by the name a catalog gives them.
WHOLE = {
    *(f"kedro_ml.datasets.atomic.{name}" for name in atomic.__all__),
    "kedro_ml.datasets.spark_tables.SparkDataset",
    "kedro_ml.datasets.arrow_csv.ArrowCSVDataset",
    "kedro_ml.datasets.arrow_csv.OptionalCSVDataset",
    "kedro_ml.datasets.versioned.SkopsModelDataset",
    "kedro_ml.datasets.versioned.VersionedParquetDataset",
    "kedro_ml.datasets.online_store.OnlineStoreDataset",
}


def _file_entries(entry: dict, name: str):
    """(name, type) of each dataset in ``entry`` that has a file, wrappers unwrapped."""
    if "filepath" in entry:
        yield name, entry["type"]
    if isinstance(entry.get("dataset"), dict):
        yield from _file_entries(entry["dataset"], name)


def _catalog_files(path: Path):
    entries = yaml.safe_load(path.read_text()) or {}
    for name, entry in entries.items():
        if isinstance(entry, dict):
            yield from _file_entries(entry, name)


CATALOGS = sorted((PROJECT_ROOT / "conf").glob("*/catalog*.yml"))


@pytest.mark.parametrize("catalog", CATALOGS, ids=lambda p: p.parent.name)
def test_every_catalog_entry_with_a_file_writes_it_whole(catalog):
    entries = list(_catalog_files(catalog))
    assert entries
    not_whole = [(name, kind) for name, kind in entries if kind not in WHOLE]
    assert not_whole == [], (
        f"{catalog}: use a dataset of kedro_ml.datasets.atomic (or one that "
        f"writes through kedro_ml.files) for {not_whole}"
    )


def _figure(value: float):
    figure, axes = plt.subplots()
    axes.plot([0, 1], [0, value])
    return figure


# name -> (make the dataset at a path, an old value, a new value, read the file back)
KINDS = {
    "parquet": (
        lambda p: atomic.ParquetDataset(filepath=str(p / "t.parquet")),
        pd.DataFrame({"a": [1, 2]}),
        pd.DataFrame({"a": [3, 4, 5]}),
        lambda p: len(pd.read_parquet(p / "t.parquet")),
    ),
    "csv": (
        lambda p: atomic.CSVDataset(filepath=str(p / "t.csv")),
        pd.DataFrame({"a": [1, 2]}),
        pd.DataFrame({"a": [3, 4, 5]}),
        lambda p: len(pd.read_csv(p / "t.csv")),
    ),
    "arrow csv": (
        lambda p: ArrowCSVDataset(filepath=str(p / "raw.csv")),
        pd.DataFrame({"a": [1, 2]}),
        pd.DataFrame({"a": [3, 4, 5]}),
        lambda p: len(pd.read_csv(p / "raw.csv")),
    ),
    "json": (
        lambda p: atomic.JSONDataset(filepath=str(p / "r.json")),
        {"rows": 2},
        {"rows": 3},
        lambda p: (p / "r.json").read_text(),
    ),
    "text": (
        lambda p: atomic.TextDataset(filepath=str(p / "r.txt")),
        "two",
        "three",
        lambda p: (p / "r.txt").read_text(),
    ),
    "plot": (
        lambda p: atomic.MatplotlibDataset(filepath=str(p / "r.png")),
        _figure(1.0),
        _figure(2.0),
        lambda p: (p / "r.png").read_bytes(),
    ),
    "plots in a folder": (
        lambda p: atomic.MatplotlibDataset(filepath=str(p / "plots")),
        {"a.png": _figure(1.0)},
        {"b.png": _figure(2.0)},
        lambda p: sorted(x.name for x in (p / "plots").iterdir()),
    ),
    "online store": (
        lambda p: OnlineStoreDataset(filepath=str(p / "store.sqlite")),
        None,
        None,
        lambda p: (p / "store.sqlite").read_bytes(),
    ),
}


def _store(scale: float) -> dict:
    templates = pd.DataFrame(
        {
            "char_id": np.array([1, 2], dtype=np.int64),
            "n_prior_subs": np.array([0, 2], dtype=np.int32),
            "balance": np.array([10.0, np.nan]) * scale,
        }
    )
    newcomer = pd.DataFrame(
        {"n_prior_subs": np.array([0], dtype=np.int32), "balance": [np.nan]}
    )
    return {
        "tables": {"templates": templates, "newcomer": newcomer},
        "meta": {"as_of": "2018-01-01", "game": "t", "scale": scale},
    }


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_write_that_dies_before_its_rename_leaves_the_old_file(
    kind, tmp_path, monkeypatch
):
    make, old, new, read = KINDS[kind]
    if kind == "online store":
        old, new = _store(1.0), _store(2.0)
    make(tmp_path).save(old)
    before = read(tmp_path)

    def killed(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("kedro_ml.files.put_in_place", killed)
    with pytest.raises((DatasetError, OSError)):
        make(tmp_path).save(new)
    assert read(tmp_path) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []

    monkeypatch.undo()
    make(tmp_path).save(new)
    assert read(tmp_path) != before


def test_a_versioned_table_that_dies_before_its_rename_leaves_no_version(
    tmp_path, monkeypatch
):
    def dataset():
        return VersionedParquetDataset(
            filepath=str(tmp_path / "p.parquet"), version=Version(None, None)
        )

    dataset().save(pd.DataFrame({"a": [1]}))
    monkeypatch.setattr(
        "kedro_ml.files.put_in_place",
        lambda *a: (_ for _ in ()).throw(OSError("killed")),
    )
    with pytest.raises((DatasetError, OSError)):
        dataset().save(pd.DataFrame({"a": [1, 2]}))
    assert len(dataset().load()) == 1


def test_a_report_logged_to_mlflow_is_the_whole_file_under_its_own_name(tmp_path):
    import mlflow
    from kedro_mlflow.io.artifacts import MlflowArtifactDataset

    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    report = MlflowArtifactDataset(
        dataset={
            "type": "kedro_ml.datasets.atomic.JSONDataset",
            "filepath": str(tmp_path / "reports" / "r.json"),
        },
        artifact_path="reports",
    )
    with mlflow.start_run() as run:
        report.save({"rows": 3})
    logged = mlflow.artifacts.download_artifacts(
        run_id=run.info.run_id, artifact_path="reports/r.json", dst_path=tmp_path / "d"
    )
    assert Path(logged).read_text() == (tmp_path / "reports" / "r.json").read_text()
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == ["r.json"]


_WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np, pandas as pd
    from kedro_ml.datasets.atomic import ParquetDataset, JSONDataset
    table = ParquetDataset(filepath=sys.argv[1] + "/t.parquet")
    record = JSONDataset(filepath=sys.argv[1] + "/r.json")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.random((400_000, 4)), columns=list("abcd"))
    print("writing", flush=True)
    for i in range(1_000_000):
        frame["i"] = i
        table.save(frame)
        record.save({"i": i, "values": list(range(20_000))})
    """
)


@pytest.mark.slow
def test_kill_9_during_writes_never_leaves_a_broken_file(tmp_path):
    """A real process killed at random moments of its writes, ten times."""
    rng = random.Random(20261207)
    for _ in range(10):
        process = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(tmp_path)],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stdout.readline().strip() == "writing"
            try:
                process.wait(timeout=rng.uniform(0.05, 1.5))
            except subprocess.TimeoutExpired:
                pass
        finally:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
        for name, read in (
            (
                "t.parquet",
                lambda p: (
                    pd.read_parquet(p)["i"] == pd.read_parquet(p)["i"].iloc[0]
                ).all(),
            ),
            ("r.json", lambda p: len(pd.read_json(p).index) == 20_000),
        ):
            if (tmp_path / name).exists():
                assert read(tmp_path / name), name
    # the next write removes whatever the killed writers left
    atomic.JSONDataset(filepath=str(tmp_path / "r.json")).save({"i": -1})
    atomic.ParquetDataset(filepath=str(tmp_path / "t.parquet")).save(
        pd.DataFrame({"i": [-1]})
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json", "t.parquet"]
