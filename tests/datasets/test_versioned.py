"""Versioned models and predictions: written whole, never from the future, never unpickled."""

from __future__ import annotations

import datetime as dt
import os
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kedro.io.core import VERSION_FORMAT, DatasetError, Version
from sklearn.linear_model import LogisticRegression

from kedro_ml.datasets.versioned import SkopsModelDataset, VersionedParquetDataset


def _model() -> LogisticRegression:
    x = np.array([[0.0], [1.0], [2.0], [3.0]])
    model = LogisticRegression().fit(x, [0, 0, 1, 1])
    model.model_id_ = "abc123"
    return model


def _version(days: float) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(days=days)).strftime(VERSION_FORMAT)


def _saved(tmp_path: Path, version: str | None = None) -> SkopsModelDataset:
    dataset = SkopsModelDataset(
        filepath=str(tmp_path / "model.skops"), version=Version(None, version)
    )
    dataset.save(_model())
    return dataset


def _latest(tmp_path: Path) -> SkopsModelDataset:
    return SkopsModelDataset(
        filepath=str(tmp_path / "model.skops"), version=Version(None, None)
    )


def test_a_saved_model_loads_back_with_its_identity(tmp_path):
    _saved(tmp_path)
    loaded = _latest(tmp_path).load()
    assert loaded.model_id_ == "abc123"
    assert loaded.predict_proba([[3.0]])[0, 1] > 0.5
    assert list(_latest(tmp_path).model_ids().values()) == ["abc123"]


def test_a_failed_save_leaves_no_version_behind(tmp_path, monkeypatch):
    good = _saved(tmp_path, _version(-2))
    assert good.exists()

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    dataset = SkopsModelDataset(
        filepath=str(tmp_path / "model.skops"), version=Version(None, None)
    )
    monkeypatch.setattr("kedro_ml.files.put_in_place", disk_full)  # never renamed
    with pytest.raises(DatasetError):
        dataset.save(_model())
    # no partial file anywhere, and the latest version is still the good one
    leftovers = [p for p in tmp_path.rglob("*") if p.name.endswith(".partial")]
    assert leftovers == []
    assert _latest(tmp_path).resolve_load_version() == good.resolve_save_version()


def test_a_save_killed_midway_leaves_nothing_a_later_run_picks_up(tmp_path):
    good = _saved(tmp_path, _version(-2))
    # what a killed save leaves: the digest, and a temporary file never renamed
    folder = tmp_path / "model.skops" / _version(-1)
    folder.mkdir()
    (folder / "model.json").write_text('{"sha256": "x"}')
    (folder / ".model.skops.1234.partial").write_bytes(b"half a mod")
    assert _latest(tmp_path).resolve_load_version() == good.resolve_save_version()
    assert _latest(tmp_path).load().model_id_ == "abc123"


def test_a_version_dated_in_the_future_is_refused_by_name(tmp_path):
    _saved(tmp_path, _version(-1))
    future = _version(365 * 70)  # e.g. 2099
    folder = tmp_path / "model.skops" / future
    folder.mkdir()
    (folder / "model.skops").write_bytes(b"anything")
    with pytest.raises(DatasetError, match=f"{future} is dated in the future") as info:
        _latest(tmp_path).load()
    assert "--load-versions=model:<version>" in str(info.value)


def test_a_folder_that_is_not_a_version_is_refused(tmp_path):
    _saved(tmp_path, _version(-1))
    folder = tmp_path / "model.skops" / "zzz-latest"
    folder.mkdir()
    (folder / "model.skops").write_bytes(b"x")
    with pytest.raises(
        DatasetError, match="'zzz-latest' is not a version this project writes"
    ):
        _latest(tmp_path).load()


def test_a_dropped_pickle_never_runs(tmp_path):
    """A pickle that would run a command, dropped in as the newest version."""
    _saved(tmp_path, _version(-2))
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    version = _version(-1)
    folder = tmp_path / "model.skops" / version
    folder.mkdir()
    (folder / "model.skops").write_bytes(pickle.dumps(Payload()))
    with pytest.raises(
        DatasetError, match=f"{version}/model.skops could not be loaded"
    ) as info:
        _latest(tmp_path).load()
    assert not marker.exists()
    message = str(info.value)
    assert "--load-versions=model:<version>" in message and "Other versions" in message
    # the older version still loads when asked for
    older = SkopsModelDataset(
        filepath=str(tmp_path / "model.skops"),
        version=Version(
            sorted(p.name for p in (tmp_path / "model.skops").iterdir())[0], None
        ),
    )
    assert older.load().model_id_ == "abc123"


def test_a_replaced_model_file_fails_its_digest(tmp_path):
    dataset = _saved(tmp_path)
    version = dataset.resolve_save_version()
    path = tmp_path / "model.skops" / version / "model.skops"
    other = _model()
    other.model_id_ = "tampered"
    from kedro_ml.core.persistence import dumps

    path.write_bytes(dumps(other))  # a valid skops file, but not the one saved
    with pytest.raises(DatasetError, match="SHA-256 is not the one recorded"):
        _latest(tmp_path).load()


def test_untrusted_types_are_refused(tmp_path):
    import skops.io as sio

    from kedro_ml.core.persistence import UntrustedModelError, loads

    class Unknown:  # a type no skops list trusts
        pass

    with pytest.raises(UntrustedModelError, match="does not trust"):
        loads(sio.dumps({"thing": Unknown()}))


def test_predictions_are_written_whole_and_read_back(tmp_path):
    frame = pd.DataFrame({"sub_id": [1, 2], "sub_churn_pred": [0.1, 0.9]})
    dataset = VersionedParquetDataset(
        filepath=str(tmp_path / "batch.parquet"), version=Version(None, None)
    )
    dataset.save(frame)
    pd.testing.assert_frame_equal(
        VersionedParquetDataset(
            filepath=str(tmp_path / "batch.parquet"), version=Version(None, None)
        ).load(),
        frame,
    )
    assert not [p for p in tmp_path.rglob("*") if ".partial" in p.name]


def test_a_truncated_parquet_version_says_how_to_load_another(tmp_path):
    frame = pd.DataFrame({"sub_id": [1], "sub_churn_pred": [0.5]})
    VersionedParquetDataset(
        filepath=str(tmp_path / "batch.parquet"), version=Version(None, _version(-2))
    ).save(frame)
    broken = tmp_path / "batch.parquet" / _version(-1) / "batch.parquet"
    broken.parent.mkdir()
    broken.write_bytes(b"PAR1 truncated")
    with pytest.raises(
        DatasetError, match="could not be loaded.*--load-versions=batch:<version>"
    ):
        VersionedParquetDataset(
            filepath=str(tmp_path / "batch.parquet"), version=Version(None, None)
        ).load()
