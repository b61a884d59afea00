"""WriteBehindDataset: handed on at once, written on the writer thread, nothing lost."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import pytest
from kedro.io import AbstractDataset
from kedro.io.core import DatasetError
from kedro.pipeline import Node, Pipeline

from kedro_ml.datasets import write_behind
from kedro_ml.datasets.write_behind import WriteBehindDataset
from kedro_ml.hooks.writes import BackgroundWrites
from tests.conftest import run_kedro

FRAME = pd.DataFrame({"sub_id": [1, 2, 3], "score": [0.5, 0.25, 0.125]})


class GatedDataset(AbstractDataset):
    """Keeps what it saves, once ``gate`` is set: a write that takes as long as a test wants."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.saved: list[Any] = []

    def save(self, data: Any) -> None:
        assert self.gate.wait(timeout=30), "the gate was never opened"
        self.saved.append(data)

    def load(self) -> Any:
        return self.saved[-1]

    def _exists(self) -> bool:
        return bool(self.saved)

    def _describe(self) -> dict[str, Any]:
        return {}


def _parquet(path: Path) -> WriteBehindDataset:
    return WriteBehindDataset(
        dataset={"type": "pandas.ParquetDataset", "filepath": str(path)},
        copy_mode="assign",
    )


@pytest.fixture
def in_a_run():
    write_behind.run_started()
    try:
        yield
    finally:
        try:
            write_behind.wait_for_writes()
        except DatasetError:
            pass
        write_behind.run_ended()


def test_outside_a_run_a_save_writes_at_once(tmp_path):
    dataset = _parquet(tmp_path / "t.parquet")
    dataset.save(FRAME)
    assert write_behind.pending_writes() == 0
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "t.parquet"), FRAME)


def test_in_a_run_the_next_node_gets_the_table_before_it_is_written(in_a_run):
    inner = GatedDataset()
    dataset = WriteBehindDataset(dataset=inner, copy_mode="assign")
    dataset.save(FRAME)
    assert dataset.load().equals(FRAME)
    assert dataset.exists()
    assert inner.saved == []  # still writing
    inner.gate.set()
    write_behind.wait_for_writes()
    assert len(inner.saved) == 1 and inner.saved[0].equals(FRAME)
    assert write_behind.pending_writes() == 0


def test_a_released_table_is_read_back_after_its_write(tmp_path, in_a_run):
    gate = WriteBehindDataset(dataset=GatedDataset(), copy_mode="assign")
    gate.save(FRAME)  # holds the one writer thread
    dataset = _parquet(tmp_path / "t.parquet")
    dataset.save(FRAME)
    dataset.release()
    assert dataset.exists()  # pending, not yet on disk
    assert not (tmp_path / "t.parquet").exists()
    threading.Timer(0.2, gate._dataset.gate.set).start()
    pd.testing.assert_frame_equal(dataset.load(), FRAME)  # waits for both writes


def test_a_node_changing_its_input_cannot_change_what_is_written(tmp_path, in_a_run):
    gate = WriteBehindDataset(dataset=GatedDataset(), copy_mode="assign")
    gate.save(FRAME)
    frame = FRAME.copy()
    dataset = _parquet(tmp_path / "t.parquet")
    dataset.save(frame)
    frame["score"] = -1.0  # after the save, before the write
    frame.loc[0, "sub_id"] = 99
    gate._dataset.gate.set()
    write_behind.wait_for_writes()
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "t.parquet"), FRAME)


def test_a_failed_write_is_raised_naming_the_file_and_the_others_are_written(
    tmp_path, in_a_run
):
    blocked = tmp_path / "blocked.parquet"
    blocked.mkdir()  # a folder where the file should go
    _parquet(blocked).save(FRAME)
    _parquet(tmp_path / "fine.parquet").save(FRAME)
    with pytest.raises(DatasetError, match=r"blocked\.parquet") as error:
        write_behind.wait_for_writes()
    assert "1 table(s)" in str(error.value)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "fine.parquet"), FRAME)
    assert write_behind.pending_writes() == 0


def _hook_run(pipeline: Pipeline, saves: list[tuple[Any, str, pd.DataFrame]]):
    """The hook's calls for a run of ``pipeline`` whose nodes save ``saves`` in order."""
    hook = BackgroundWrites()
    hook.before_pipeline_run(pipeline)
    try:
        for node in pipeline.nodes:
            hook.before_node_run()
            hook.after_node_run(node)
            for dataset, name, frame in saves:
                if name in node.outputs:
                    dataset.save(frame)
                    hook.after_dataset_saved(name)
    except DatasetError:
        hook.on_pipeline_error()
        raise
    hook.after_pipeline_run()


def _identity(x):
    return x


PIPELINE = Pipeline(
    [
        Node(_identity, "raw", "first", name="first"),
        Node(_identity, "first", "second", name="second"),
    ]
)


def test_the_hook_waits_after_the_last_output_and_writes_only_within_the_run(
    tmp_path,
):
    first, second = _parquet(tmp_path / "1.parquet"), _parquet(tmp_path / "2.parquet")
    _hook_run(PIPELINE, [(first, "first", FRAME), (second, "second", FRAME)])
    assert write_behind.pending_writes() == 0
    assert (tmp_path / "1.parquet").exists() and (tmp_path / "2.parquet").exists()
    assert not write_behind.writing_behind()


def test_a_run_stopped_before_its_first_node_leaves_saves_synchronous(tmp_path):
    hook = BackgroundWrites()
    hook.before_pipeline_run(PIPELINE)  # then another hook's check fails
    assert not write_behind.writing_behind()
    _parquet(tmp_path / "t.parquet").save(FRAME)
    assert (tmp_path / "t.parquet").is_file()


def test_a_failed_write_fails_the_run_at_its_last_save(tmp_path):
    (tmp_path / "1.parquet").mkdir()
    first, second = _parquet(tmp_path / "1.parquet"), _parquet(tmp_path / "2.parquet")
    with pytest.raises(DatasetError, match=r"1\.parquet"):
        _hook_run(PIPELINE, [(first, "first", FRAME), (second, "second", FRAME)])
    assert (tmp_path / "2.parquet").exists()
    assert not write_behind.writing_behind()


@pytest.mark.slow
def test_a_table_that_cannot_be_written_fails_the_run_and_frees_the_game(
    project_copy,
):
    """Through KedroSession: the run fails naming the file, its MLflow run is marked
    failed, the other tables are on disk, and the next run goes through."""
    blocked = project_copy / "data" / "03_primary" / "sub_churn_labels.parquet"
    blocked.mkdir()
    with pytest.raises(DatasetError, match=r"sub_churn_labels\.parquet"):
        run_kedro(project_copy, "sub_churn_standard_features")
    for table in ("subscription_features", "sub_churn_primary"):
        assert (project_copy / "data" / "03_primary" / f"{table}.parquet").is_file()
    runs = mlflow.search_runs(search_all_experiments=True, output_format="list")
    assert [run.info.status for run in runs] == ["FAILED"]
    blocked.rmdir()
    run_kedro(project_copy, "sub_churn_standard_features")
    assert blocked.is_file()
