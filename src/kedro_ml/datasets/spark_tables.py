"""kedro-datasets' ``spark.SparkDatasetV2``, writing each table whole (``kedro_ml.files``).

Spark's ``overwrite`` deletes the old folder before it writes the new one: a run
killed in between leaves part of a table that later runs read as if it were
whole. Here Spark writes a hidden temporary folder beside the table, which
then takes the table's place. Imported by the Spark environment's catalog
only, so that the package does not need PySpark.
"""

from __future__ import annotations

from kedro_datasets.spark import SparkDatasetV2

from kedro_ml.datasets.atomic import AtomicSave


class SparkDataset(AtomicSave, SparkDatasetV2):
    """``spark.SparkDatasetV2``, written whole on a local filesystem."""
