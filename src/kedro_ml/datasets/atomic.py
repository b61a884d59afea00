"""kedro-datasets' file datasets, each writing whole files (``kedro_ml.files``).

Kedro's file datasets open their target and write into it: a run killed during
a write leaves a truncated table that every later run fails on. Here the same
datasets, with the same arguments, write a temporary file beside the target and
rename it into place; leftovers of killed writes are removed at the next write.
Only local paths are handled this way: an object store (``s3://``, ``gs://``)
puts an object whole already.

``AtomicSave`` fits any kedro-datasets class whose ``save`` writes to
``self._get_save_path()`` (all of those below); the catalog names the classes
here, and ``tests/datasets/test_atomic.py`` checks that every dataset of every
environment that writes a local file is one of them.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from kedro.io.core import get_filepath_str
from kedro_datasets.json import JSONDataset as _JSONDataset
from kedro_datasets.matplotlib import MatplotlibDataset as _MatplotlibDataset
from kedro_datasets.pandas import CSVDataset as _CSVDataset
from kedro_datasets.pandas import ParquetDataset as _ParquetDataset
from kedro_datasets.text import TextDataset as _TextDataset

from kedro_ml.files import atomic_path

__all__ = [
    "CSVDataset",
    "JSONDataset",
    "MatplotlibDataset",
    "ParquetDataset",
    "TextDataset",
]

_LOCAL = {"file", ""}


class AtomicSave:
    """Mixin: ``save`` writes a temporary path, renamed to the target once it is whole."""

    _atomic_target: PurePosixPath | None = None

    def save(self, data: Any) -> None:
        parent = super().save  # Kedro's wrapped save of the dataset class
        write = getattr(parent, "__wrapped__", None)
        if getattr(self, "_protocol", "file") not in _LOCAL:
            parent(data)
            return
        target = get_filepath_str(self._get_save_path(), "file")
        with atomic_path(target) as temporary:
            self._atomic_target = PurePosixPath(temporary)
            try:
                if write is None:
                    parent(data)
                else:
                    write(self, data)
            finally:
                self._atomic_target = None

    # Kedro makes a class's ``_save`` its ``save`` (SparkDatasetV2 has one)
    _save = save

    def _get_save_path(self) -> PurePosixPath:
        if self._atomic_target is not None:
            return self._atomic_target
        return super()._get_save_path()


class ParquetDataset(AtomicSave, _ParquetDataset):
    """``pandas.ParquetDataset``, written whole."""


class CSVDataset(AtomicSave, _CSVDataset):
    """``pandas.CSVDataset``, written whole."""


class JSONDataset(AtomicSave, _JSONDataset):
    """``json.JSONDataset``, written whole."""


class TextDataset(AtomicSave, _TextDataset):
    """``text.TextDataset``, written whole."""


class MatplotlibDataset(AtomicSave, _MatplotlibDataset):
    """``matplotlib.MatplotlibDataset``, written whole (a set of figures as one folder)."""
