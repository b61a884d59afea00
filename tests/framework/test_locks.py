"""The lock on a game's data: one holder at a time, a clear message, released always."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from kedro_ml.framework.locks import FileLock, LockTimeoutError

HOLD = """
import sys, time
from pathlib import Path
from kedro_ml.framework.locks import FileLock
lock = FileLock(Path(sys.argv[1]))
lock.acquire("kedro run -p sub_churn_train", 5)
print("held", flush=True)
time.sleep(float(sys.argv[2]))
"""


def _holder(path, seconds: float) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "held"
    return process


def test_a_second_run_waits_then_fails_clearly_naming_the_holder(tmp_path):
    path = tmp_path / ".kedro_ml.lock"
    holder = _holder(path, 30)
    try:
        start = time.monotonic()
        with pytest.raises(LockTimeoutError) as info:
            FileLock(path).acquire("kedro run", timeout=1.0)
        assert time.monotonic() - start < 10
        message = str(info.value)
        assert str(path) in message and f"pid {holder.pid}" in message
        assert (
            "kedro run -p sub_churn_train" in message
            and "KEDRO_ML_LOCK_TIMEOUT" in message
        )
    finally:
        holder.kill()
        holder.wait()


def test_the_lock_is_taken_once_its_holder_ends_even_when_killed(tmp_path):
    path = tmp_path / ".kedro_ml.lock"
    holder = _holder(path, 30)
    holder.kill()  # no release: the OS frees the lock with the process
    holder.wait()
    lock = FileLock(path)
    lock.acquire("next run", timeout=5)
    lock.release()


def test_a_waiting_run_goes_on_when_the_holder_finishes(tmp_path, caplog):
    path = tmp_path / ".kedro_ml.lock"
    holder = _holder(path, 1.5)
    try:
        lock = FileLock(path)
        with caplog.at_level("WARNING", logger="kedro_ml.framework.locks"):
            lock.acquire("second run", timeout=30)
        assert "Waiting for" in caplog.text and f"pid {holder.pid}" in caplog.text
        lock.release()
    finally:
        holder.wait()
