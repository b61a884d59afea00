"""The Spark session of an environment with a ``spark.yml``, and Spark frames handed to pandas nodes.

As in Kedro's PySpark guide, the session is created when the context is, from
the environment's ``spark.yml``; environments without one never import
pyspark. Nodes that run on Spark (marked ``kedro_ml.spark.runs_on_spark``) take
Spark DataFrames; every other node (training, scoring, reports, the online store)
gets its Spark inputs as pandas, typed as the pandas path types them.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from typing import Any

from kedro.config import MissingConfigException
from kedro.framework.hooks import hook_impl

from kedro_ml.spark import is_spark

logger = logging.getLogger(__name__)

SETUP_HINT = "run `make spark-setup` (pyspark, and Java 17 where missing)"

# validated tables written by Spark, and the raw table whose types they keep
_TYPED_AS = {
    "characters_validated": "characters",
    "sub_data_validated": "sub_data",
    "sub_miss_validated": "sub_miss",
    "currency_monthly": "character_currency",
}


class SparkSetupError(RuntimeError):
    """Spark cannot start on this machine."""


def spark_settings(context: Any) -> dict[str, Any]:
    """The environment's ``spark.yml`` settings ({} when it has none)."""
    try:
        return dict(context.config_loader["spark"] or {})
    except MissingConfigException:
        return {}


def start_session(settings: dict[str, Any]) -> Any:
    """A Spark session with ``settings``, its Python workers in this environment."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:
        raise SparkSetupError(f"pyspark is not installed: {SETUP_HINT}") from error
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        raise SparkSetupError(
            f"Spark needs Java (none on PATH or JAVA_HOME): {SETUP_HINT}"
        )
    # workers run this interpreter, so they import the same kedro_ml and libraries
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    if str(settings.get("spark.master", "local")).startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # nothing listens outside
    builder = SparkSession.builder
    for key, value in settings.items():
        builder = builder.config(
            key, str(value).lower() if isinstance(value, bool) else str(value)
        )
    try:
        session = builder.getOrCreate()
    except Exception as error:  # the JVM failed to start: say what to do
        raise SparkSetupError(f"Spark did not start ({error}): {SETUP_HINT}") from error
    session.sparkContext.setLogLevel("ERROR")
    return session


class SparkSessionHook:
    """Starts the Spark session of an environment that has a ``spark.yml``."""

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        settings = spark_settings(context)
        if settings:
            session = start_session(settings)
            logger.info(
                "Spark %s, master %s", session.version, session.sparkContext.master
            )


class SparkToPandas:
    """Gives a pandas node its Spark inputs as pandas (a window's rows fit one machine)."""

    @hook_impl
    def before_node_run(
        self, node: Any, inputs: dict[str, Any]
    ) -> dict[str, Any] | None:
        spark_inputs = [name for name, value in inputs.items() if is_spark(value)]
        if not spark_inputs or getattr(node.func, "takes_spark", False):
            return None
        from kedro_ml.core.validation import SCHEMAS
        from kedro_ml.spark.buckets import to_pandas, typed_as

        handed = {}
        for name in spark_inputs:
            frame = to_pandas(inputs[name])
            table = _TYPED_AS.get(name)
            handed[name] = typed_as(frame, SCHEMAS[table]) if table else frame
        return handed
