"""The Spark path: the pipelines' nodes on Spark DataFrames, one character bucket at a time.

Importing this package does not import pyspark: the default path never needs
it. ``is_spark`` tells which engine a node's inputs come from; ``runs_on_spark``
marks a node function that has a Spark side in ``kedro_ml.spark.nodes``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any


def is_spark(data: Any) -> bool:
    """Whether ``data`` is a Spark DataFrame (classic or Spark Connect)."""
    kind = type(data)
    return kind.__name__ == "DataFrame" and kind.__module__.startswith("pyspark.")


def runs_on_spark(func: Callable) -> Callable:
    """A node function that, given a Spark DataFrame, runs its namesake in ``kedro_ml.spark.nodes``.

    Given pandas, it is the function itself: the Spark side calls it per bucket.
    """

    @functools.wraps(func)
    def node(*args: Any, **kwargs: Any) -> Any:
        if any(is_spark(value) for value in (*args, *kwargs.values())):
            from kedro_ml.spark import nodes as on_spark

            return getattr(on_spark, func.__name__)(*args, **kwargs)
        return func(*args, **kwargs)

    node.takes_spark = True
    return node
