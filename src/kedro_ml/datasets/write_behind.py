"""A table handed on in memory at once and written to disk while the run goes on.

``WriteBehindDataset`` is Kedro's ``CachedDataset`` whose ``save`` does not wait
for the file: the data is cached for the nodes after it and the wrapped
dataset's ``save`` runs on one writer thread of the process, in the order the
tables were saved. Parquet encoding and compression release the GIL, so on a
machine with two cores or more the writing overlaps the next nodes' work.

Nothing is lost or hidden by writing later:

* ``load`` of a table whose write is still pending (its cache released) waits
  for the write, then reads the file; ``exists`` counts a pending write.
* ``wait_for_writes`` blocks until every pending write is done and raises one
  ``DatasetError`` naming each table that failed and why. The
  ``BackgroundWrites`` hook (``kedro_ml.hooks.writes``) calls it after the last
  node of a run, so a failed write fails the run through Kedro's own error path
  (the MLflow run is marked failed, the game's lock released), and when a run
  fails, so that the outputs of the nodes that finished are on disk.
* The writer thread is not a daemon: a process that ends with writes pending
  finishes them before it exits.
* Outside a run (``catalog.save`` in a notebook) a save writes at once, as
  ``CachedDataset`` does: the hook turns writing behind on for a run only.

The saved object is shallow-copied (pandas copy-on-write: a node that changed
its input afterwards could not change what is being written).
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pandas as pd
from kedro.io import CachedDataset
from kedro.io.core import DatasetError


class _Writer:
    """The process's writer thread, its pending writes and the runs that use it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.executor: ThreadPoolExecutor | None = None
        self.pending: list[tuple[WriteBehindDataset, Future]] = []  # in save order
        self.runs = 0  # runs in this process that write behind


_WRITER = _Writer()


def run_started() -> None:
    """A run began: saves of ``WriteBehindDataset`` return before the file is written."""
    with _WRITER.lock:
        _WRITER.runs += 1


def run_ended() -> None:
    """A run ended (after ``wait_for_writes``): saves write at once again when none is left."""
    with _WRITER.lock:
        _WRITER.runs = max(_WRITER.runs - 1, 0)


def writing_behind() -> bool:
    with _WRITER.lock:
        return _WRITER.runs > 0


def _submit(dataset: WriteBehindDataset, data: Any) -> Future:
    with _WRITER.lock:
        if _WRITER.executor is None:
            _WRITER.executor = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="writer"
            )
        write = _WRITER.executor.submit(dataset._dataset.save, data)
        _WRITER.pending.append((dataset, write))
    return write


def pending_writes() -> int:
    """How many writes have not been waited for yet (done or not)."""
    with _WRITER.lock:
        return len(_WRITER.pending)


def wait_for_writes() -> None:
    """Wait for every pending write; raise one ``DatasetError`` naming each that failed."""
    with _WRITER.lock:
        writes = list(_WRITER.pending)
        _WRITER.pending.clear()
    failures = []
    for dataset, write in writes:
        error = write.exception()
        if error is not None:
            failures.append(f"{dataset._dataset}: {error}")
    if failures:
        raise DatasetError(
            f"{len(failures)} table(s) could not be written in the background:\n"
            + "\n".join(failures)
            + "\nThe run's other outputs are written; fix the cause and run again."
        )


def _writes_of(dataset: WriteBehindDataset) -> list[Future]:
    with _WRITER.lock:
        return [write for saved, write in _WRITER.pending if saved is dataset]


def _wait_for(dataset: WriteBehindDataset) -> None:
    for write in _writes_of(dataset):
        write.exception()  # its error, if any, is raised by wait_for_writes


class WriteBehindDataset(CachedDataset):
    """``CachedDataset`` whose wrapped dataset is written on the writer thread.

    Configured as ``CachedDataset`` is (``dataset``, ``copy_mode``,
    ``metadata``); ``copy_mode: assign`` hands the saved object itself to the
    next nodes.
    """

    def save(self, data: Any) -> None:
        if not writing_behind():
            super().save(data)
            return
        if isinstance(data, pd.DataFrame):
            data = data.copy(deep=False)
        self._cache.save(data)
        _submit(self, data)

    def load(self) -> Any:
        if not self._cache.exists():
            _wait_for(self)
        return super().load()

    def _exists(self) -> bool:
        return bool(_writes_of(self)) or super()._exists()
