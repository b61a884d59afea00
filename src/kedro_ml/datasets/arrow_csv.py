"""Raw CSV tables in the public format, read and written by pyarrow."""

from __future__ import annotations

import csv
import logging
import os
import re
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv
from kedro.io import DatasetError
from kedro.io.core import get_filepath_str
from kedro_datasets.pandas import CSVDataset

from kedro_ml.datasets.fingerprint import file_digest
from kedro_ml.files import atomic_path

logger = logging.getLogger(__name__)

# a CSV field holding one of these must be quoted
_NEEDS_QUOTES = r'[,"\r\n]'

# strings load as pandas' default string dtype, as ``pandas.read_csv`` gives them
_PANDAS_STRINGS = {
    pa.string(): pd.StringDtype(na_value=np.nan),
    pa.large_string(): pd.StringDtype(na_value=np.nan),
}


def _locate(data: bytes) -> str | None:
    """Where a CSV file stops being readable: bytes that are not UTF-8, a row of the wrong width."""
    lines = data.split(b"\n")
    try:
        header = next(csv.reader([lines[0].decode("utf-8")]))
    except (UnicodeDecodeError, StopIteration):
        header = []
    for number, line in enumerate(lines, start=1):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as error:
            before = line[: error.start].decode("utf-8", errors="replace")
            field = next(csv.reader([before]), [""])
            index = max(len(field) - 1, 0)
            column = header[index] if index < len(header) else f"#{index + 1}"
            return (
                f"line {number}, column '{column}': bytes that are not UTF-8 "
                f"({line[error.start : error.end + 3]!r}); save the file as UTF-8"
            )
        if number > 1 and not text.strip() and number < len(lines):
            return (
                f"line {number} is blank: remove it (every line number after it "
                "would be off by one)"
            )
        if number > 1 and text.strip():
            fields = next(csv.reader([text.rstrip("\r")]), [])
            if header and len(fields) != len(header):
                return (
                    f"line {number}: {len(fields)} fields where the header has "
                    f"{len(header)} ({', '.join(header)})"
                )
    return None


class ArrowCSVDataset(CSVDataset):
    """A ``pandas.CSVDataset`` read and written by pyarrow's multithreaded CSV engine.

    Loading parses types in pyarrow, not in pandas: ``load_args`` takes
    ``parse_dates`` (columns read as ``datetime64[s]``) and ``dtype`` (column ->
    ``"category"`` or a type name such as ``"int32"``); other columns are
    inferred. On millions of rows this is several times faster than
    ``pandas.read_csv(engine="pyarrow", parse_dates=...)``, which parses dates
    in pandas. A file whose values do not fit the declared types is read again
    with inferred types only, so that the contract validation downstream can
    name the offending rows instead of failing here.

    Saving writes the same public format: a header line, no index, dates as
    ``YYYY-MM-DD``, empty fields for missing values, floats in their shortest
    round-trip form (``100`` rather than ``100.0``). Values are quoted only
    when a column holds a delimiter, quote or line break. ``save_args`` is
    not used.
    """

    _LOAD_ARGS = frozenset({"parse_dates", "dtype"})

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        unknown = set(self._load_args) - self._LOAD_ARGS
        if unknown:
            raise DatasetError(
                f"{type(self).__name__} ({self._filepath}): unsupported load_args "
                f"{sorted(unknown)}; it takes {sorted(self._LOAD_ARGS)}"
            )
        types = {
            name: pa.timestamp("s") for name in self._load_args.get("parse_dates", [])
        }
        for name, dtype in (self._load_args.get("dtype") or {}).items():
            types[name] = (
                pa.dictionary(pa.int32(), pa.string())
                if dtype == "category"
                else pa.from_numpy_dtype(np.dtype(dtype))
            )
        self._column_types = types

    @property
    def _local(self) -> bool:
        return self._protocol in ("file", "local")

    def fingerprint(self) -> str | None:
        """SHA-256 of the file's contents (None when it does not exist or is remote)."""
        if not self._local:
            return None
        path = get_filepath_str(self._get_load_path(), self._protocol)
        return file_digest(path) if os.path.isfile(path) else None

    def load(self) -> pd.DataFrame:
        load_path = get_filepath_str(self._get_load_path(), self._protocol)
        with self._open(load_path) as file:
            try:
                table = self._read(file, self._column_types)
            except pa.ArrowInvalid as error:
                logger.info(
                    "%s does not fit its declared column types (%s); "
                    "reading it with inferred types",
                    load_path,
                    str(error).splitlines()[0],
                )
                file.seek(0)
                try:
                    table = self._read(file, {})
                except pa.ArrowInvalid as error:
                    file.seek(0)
                    raise DatasetError(
                        f"{load_path}: {_locate(file.read()) or error}"
                    ) from error
            names = table.column_names
            twice = sorted({n for n in names if names.count(n) > 1})
            if twice:
                raise DatasetError(
                    f"{load_path}: line 1 (the header) names column(s) {twice} more "
                    "than once; each column of the export must have a name of its own"
                )
            binary = [f.name for f in table.schema if pa.types.is_binary(f.type)]
            if binary:  # pyarrow reads text that is not UTF-8 as bytes
                file.seek(0)
                raise DatasetError(
                    f"{load_path}: {_locate(file.read()) or f'columns {binary} are not UTF-8 text'}"
                )
        # hand the columns over to pandas without holding two copies, and give
        # the reader's buffers back to the system (pyarrow's pool keeps them)
        pool = pa.default_memory_pool()
        pool.release_unused()
        frame = table.to_pandas(
            types_mapper=_PANDAS_STRINGS.get,
            date_as_object=False,
            split_blocks=True,
            self_destruct=True,
        )
        del table
        pool.release_unused()
        return frame

    def _open(self, path: str) -> Any:
        # A local file is read by pyarrow itself: through a Python file object
        # every block read goes back into Python (the 240 MB currency table of
        # a 1M-character game: 2.3 s against 0.6 s)
        if self._local:
            return pa.OSFile(path, mode="r")
        return self._fs.open(path, mode="rb")

    @staticmethod
    def _read(file: Any, column_types: dict) -> pa.Table:
        # a blank line is refused (_locate names it), not skipped: skipped, it
        # would shift the line number of every row after it in the messages
        return pv.read_csv(
            file,
            parse_options=pv.ParseOptions(ignore_empty_lines=False),
            convert_options=pv.ConvertOptions(
                column_types=column_types, strings_can_be_null=True
            ),
        )

    def save(self, data: pd.DataFrame) -> None:
        table = pa.Table.from_pandas(data, preserve_index=False)
        quoting = "none"
        for i, column in enumerate(table.schema):
            values = table[column.name]
            if pa.types.is_dictionary(column.type):
                values = values.cast(column.type.value_type)
            if pa.types.is_timestamp(column.type):
                dates = values.cast(pa.date32())  # drops any time of day
                if (
                    pc.all(pc.equal(dates.cast(column.type), values)).as_py()
                    is not False
                ):
                    values = dates  # dates without a time of day are written as dates
            if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
                if pc.any(pc.match_substring_regex(values, _NEEDS_QUOTES)).as_py():
                    quoting = "needed"
            table = table.set_column(i, column.name, values)
        save_path = get_filepath_str(self._get_save_path(), self._protocol)
        names = table.column_names
        if any(re.search(_NEEDS_QUOTES, name) for name in names):
            quoting = "needed"
            names = ['"' + name.replace('"', '""') + '"' for name in names]
        header = ",".join(names)

        def write(path: str) -> None:
            with self._fs.open(path, mode="wb") as fs_file:
                # pyarrow quotes header names always; the header is written here
                fs_file.write(f"{header}\n".encode())
                pv.write_csv(
                    table,
                    fs_file,
                    pv.WriteOptions(include_header=False, quoting_style=quoting),
                )

        if self._local:  # whole or not at all (kedro_ml.files)
            with atomic_path(save_path) as temporary:
                write(str(temporary))
        else:
            write(save_path)
        self._invalidate_cache()


class OptionalCSVDataset(ArrowCSVDataset):
    """A ``pandas.CSVDataset`` that loads an empty frame when its file does not exist.

    For side inputs that only some data sets have, such as the generator's true
    churn probabilities: real exports come without them and the run goes on.
    """

    # a run may start without it (see kedro_ml.hooks.checks.check_inputs_exist)
    optional_input = True

    def __init__(self, *, columns: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._columns = list(columns)

    def load(self) -> pd.DataFrame:
        if not self._exists():
            return pd.DataFrame(
                {column: pd.Series(dtype="float64") for column in self._columns}
            )
        return super().load()
