"""Spark tests need pyspark and Java (``make spark-setup``); CI must have both."""

from __future__ import annotations

import importlib.util
import os
import shutil

import pytest


def spark_missing() -> str | None:
    """Why Spark cannot run here, or None."""
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed"
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        return "no Java on PATH or JAVA_HOME"
    return None


def require_spark() -> None:
    """Skip where Spark is not set up; in CI, where it must be, fail instead."""
    reason = spark_missing()
    if reason is None:
        return
    message = f"{reason}: run `make spark-setup`"
    if os.environ.get("CI"):
        pytest.fail(f"the Spark tests must run in CI, but {message}")
    pytest.skip(message)
