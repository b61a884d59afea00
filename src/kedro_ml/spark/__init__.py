"""The Spark path: the pipelines' nodes on Spark DataFrames, one character bucket at a time.

Importing this package does not import pyspark: the default path never needs
it. ``is_spark`` tells a node which engine its inputs come from.
"""

from __future__ import annotations

from typing import Any


def is_spark(data: Any) -> bool:
    """Whether ``data`` is a Spark DataFrame (classic or Spark Connect)."""
    kind = type(data)
    return kind.__name__ == "DataFrame" and kind.__module__.startswith("pyspark.")
