"""Run a pandas function on Spark, one bucket of keys at a time.

Every feature, label and validation rule of the project depends on the rows of
one character (or one subscription) only. ``apply_by_key`` hashes the key into
buckets, hands each bucket's rows of one or two tables to the unchanged pandas
function as pandas frames (``applyInPandas``, Arrow in between) and gathers
the results. The pandas function stays the one definition both paths run.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from contextlib import contextmanager

import pandas as pd
import pyarrow as pa
from pyspark.errors import PythonException
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from kedro_ml.core.validation import ROWS_WITHOUT_LINES, RawDataError, TableSchema

BUCKET = "_bucket"
SAMPLE_KEYS = 100  # keys whose rows show a function's output types


def bucket_count(spark: SparkSession) -> int:
    """Buckets per shuffle: the session's ``spark.sql.shuffle.partitions``."""
    return int(spark.conf.get("spark.sql.shuffle.partitions"))


def key_number(key: str) -> Column:
    """The key as a number, whether the table holds it as raw text ("7", "7.0") or typed."""
    return F.col(key).cast("string").try_cast("double").try_cast("long")


def with_bucket(frame: DataFrame, key: str, buckets: int) -> DataFrame:
    """``frame`` with the bucket of its ``key`` (raw text or typed: the same bucket)."""
    return frame.withColumn(BUCKET, F.pmod(F.xxhash64(key_number(key)), F.lit(buckets)))


def spark_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """A pandas result in types Arrow hands to Spark as they are.

    Categories become strings, dates microsecond timestamps (Spark's
    ``timestamp_ntz``); missing numbers reach Spark as NULL.
    """
    out = {}
    for name, values in frame.items():
        if isinstance(values.dtype, pd.CategoricalDtype) or values.dtype == object:
            out[name] = _one_chunk(values.astype("str").where(values.notna()))
        elif pd.api.types.is_string_dtype(values):
            out[name] = _one_chunk(values)
        elif pd.api.types.is_datetime64_dtype(values):
            out[name] = values.astype("datetime64[us]")
        else:
            out[name] = values
    return pd.DataFrame(out, index=frame.index).reset_index(drop=True)


def _one_chunk(values: pd.Series) -> pd.Series:
    """Arrow-backed strings in one piece: Spark takes an Array, not a ChunkedArray."""
    arrow = pa.Array.from_pandas(values)
    if isinstance(arrow, pa.ChunkedArray):
        arrow = arrow.combine_chunks()
    return pd.Series(pd.array(arrow, dtype="str"), index=values.index, name=values.name)


_SPARK_TYPES = {
    "bool": "boolean",
    "int8": "tinyint",
    "int16": "smallint",
    "int32": "int",
    "int64": "bigint",
    "Int8": "tinyint",
    "Int16": "smallint",
    "Int32": "int",
    "Int64": "bigint",
    "float32": "float",
    "float64": "double",
}


def spark_schema(frame: pd.DataFrame) -> str:
    """The DDL schema of a ``spark_ready`` frame."""
    fields = []
    for name, dtype in frame.dtypes.items():
        if pd.api.types.is_datetime64_dtype(dtype):
            kind = "timestamp_ntz"
        elif pd.api.types.is_string_dtype(dtype):
            kind = "string"
        else:
            kind = _SPARK_TYPES.get(str(dtype))
            if kind is None:
                raise TypeError(f"column '{name}': no Spark type for {dtype}")
        fields.append(f"`{name}` {kind}")
    return ", ".join(fields)


def to_pandas(frame: DataFrame) -> pd.DataFrame:
    """A Spark frame as pandas, marked as rows without CSV line numbers."""
    return _in_batch(frame.toPandas())


def _in_bucket(frame: pd.DataFrame) -> pd.DataFrame:
    return _in_batch(frame.drop(columns=BUCKET))


def apply_by_key(
    func: Callable[..., pd.DataFrame],
    frames: list[DataFrame],
    key: str,
    schema: str | None = None,
) -> DataFrame:
    """``func`` on the rows of one or two tables, bucket by bucket of ``key``.

    ``func`` takes pandas frames (one per table, in order) and returns one; a
    bucket without rows of the first table gives no rows. The output schema,
    unless given, is that of ``func``'s result on every row of the first
    table's first few keys, computed on the driver (an error there shows at
    once).
    """
    spark = frames[0].sparkSession
    buckets = bucket_count(spark)
    bucketed = [with_bucket(frame, key, buckets) for frame in frames]

    def call(*parts: pd.DataFrame) -> pd.DataFrame:
        with _quiet():
            return spark_ready(func(*(_in_bucket(part) for part in parts)))

    # the output types: the function on the whole rows of a few keys, on the driver
    keys = [
        row[0] for row in frames[0].select(key_number(key)).limit(SAMPLE_KEYS).collect()
    ]
    if not keys:
        raise ValueError("apply_by_key: the first table has no rows")
    chosen = key_number(key).isin([k for k in keys if k is not None])
    if None in keys:
        chosen = chosen | key_number(key).isNull()
    sample = [frame.filter(chosen).toPandas() for frame in bucketed]
    empty = call(*sample).iloc[:0]
    schema = schema or spark_schema(empty)

    def run_one(part: pd.DataFrame) -> pd.DataFrame:
        return empty if part.empty else call(part)

    def run_two(part: pd.DataFrame, other: pd.DataFrame) -> pd.DataFrame:
        # a bucket with rows of the second table only has nothing to give
        return empty if part.empty else call(part, other)

    if len(bucketed) == 1:
        return bucketed[0].groupBy(BUCKET).applyInPandas(run_one, schema)
    left, right = bucketed
    return (
        left.groupBy(BUCKET)
        .cogroup(right.groupBy(BUCKET))
        .applyInPandas(run_two, schema)
    )


_RAISED = re.compile(r"^(?:[\w.]+\.)?(RawDataError|ValueError): (.*)", re.S | re.M)


def materialise(frame: DataFrame, what: str) -> DataFrame:
    """Compute ``frame`` now, so that a rule broken in a worker stops the node, named.

    A ``RawDataError`` or ``ValueError`` raised by the pandas code in a Spark
    worker comes back as the same exception with the worker's message.
    """
    try:
        return frame.localCheckpoint(eager=True)
    except PythonException as error:
        raise worker_error(error, what) from error


def worker_error(error: PythonException, what: str) -> Exception:
    """The project's exception inside a Spark worker's traceback, or a plain one."""
    text = str(error)
    raised = list(_RAISED.finditer(text))
    found = raised[-1] if raised else None  # the last one raised is the cause
    if found is None:
        return RuntimeError(f"{what} failed on Spark: {text.splitlines()[-1]}")
    kind = RawDataError if found.group(1) == "RawDataError" else ValueError
    message = found.group(2).split("\n\n")[0].strip()
    return kind(f"{message} (on Spark, {what})")


def apply_by_partition(
    func: Callable[[pd.DataFrame], pd.DataFrame], frame: DataFrame
) -> DataFrame:
    """``func`` on each partition of ``frame``, for functions of single rows."""
    with _quiet():
        sample = spark_ready(func(_in_batch(frame.limit(100).toPandas())))
    schema = spark_schema(sample)

    def run(batches):
        with _quiet():
            for batch in batches:
                yield spark_ready(func(_in_batch(batch)))

    return frame.mapInPandas(run, schema)


@contextmanager
def _quiet():
    """Silence core's logging for one bucket: the Spark twin logs the totals once."""
    node_logs = logging.getLogger("kedro_ml.core")
    level = node_logs.level
    node_logs.setLevel(logging.ERROR)
    try:
        yield
    finally:
        node_logs.setLevel(level)


def _in_batch(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows from Spark as the pandas functions take them: dates in seconds, no line numbers."""
    for name, values in frame.items():
        if pd.api.types.is_datetime64_dtype(values):
            frame[name] = values.astype("datetime64[s]")
    frame.attrs[ROWS_WITHOUT_LINES] = True
    return frame


def typed_as(frame: pd.DataFrame, schema: TableSchema) -> pd.DataFrame:
    """``frame`` with the types validation gives the table's columns (categories...)."""
    types = {
        name: column.dtype
        for name, column in schema.columns.items()
        if column.dtype and name in frame.columns
    }
    out = frame.astype(types)
    out.attrs.update(frame.attrs)
    return out
