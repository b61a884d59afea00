"""The Spark path: nodes that, given Spark DataFrames, run their Spark twin instead.

Importing this package does not import pyspark: the default path never needs
it. ``is_spark`` tells which engine a node's inputs come from;
``runs_on_spark(twin)`` marks a pandas node function whose Spark twin is
``kedro_ml.spark.nodes.<twin>``, named explicitly. Both call the same
functions of ``kedro_ml.core`` (``kedro_ml.core.stages``); a registry test
checks that every marked node has its twin, with the same parameters.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import Any

TWINS_MODULE = "kedro_ml.spark.nodes"


def is_spark(data: Any) -> bool:
    """Whether ``data`` is a Spark DataFrame (classic or Spark Connect)."""
    kind = type(data)
    return kind.__name__ == "DataFrame" and kind.__module__.startswith("pyspark.")


def spark_twin(func: Callable) -> Callable:
    """The Spark twin of a node function marked with ``runs_on_spark`` (imports pyspark)."""
    return getattr(importlib.import_module(TWINS_MODULE), func.spark_twin)


def runs_on_spark(twin: str) -> Callable[[Callable], Callable]:
    """Mark a node function: given a Spark DataFrame, it runs ``kedro_ml.spark.nodes.<twin>``.

    Given pandas, it is the function itself.
    """

    def mark(func: Callable) -> Callable:
        @functools.wraps(func)
        def node(*args: Any, **kwargs: Any) -> Any:
            if any(is_spark(value) for value in (*args, *kwargs.values())):
                return spark_twin(node)(*args, **kwargs)
            return func(*args, **kwargs)

        node.takes_spark = True
        node.spark_twin = twin
        return node

    return mark
