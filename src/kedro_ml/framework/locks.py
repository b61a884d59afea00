"""File locks: one holder at a time, a note of who holds it, released when the holder ends.

A game's data root holds ``.kedro_ml.lock`` (``LOCK_NAME``): runs and project
commands on that data take it in turn (``kedro_ml.hooks.runs.RunLock``, the
replay). A waiter says for whom it waits and fails clearly after
``KEDRO_ML_LOCK_TIMEOUT`` seconds (default 600). The lock is an OS file lock,
released when its process ends, even if killed. ``store_lock`` does the same
around creating an sqlite MLflow store, which two first runs would otherwise
both try (an Alembic error).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

logger = logging.getLogger(__name__)

LOCK_NAME = ".kedro_ml.lock"
TIMEOUT_ENV = "KEDRO_ML_LOCK_TIMEOUT"
_POLL_SECONDS = 0.5


class LockTimeoutError(TimeoutError):
    """Another run held the lock for longer than we wait."""


class FileLock:
    """An exclusive ``flock`` on ``path``, holding a note of who holds it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = None

    def holder(self) -> str:
        try:
            note = json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            return "another run"
        return (
            f"pid {note.get('pid')} on {note.get('host')} running "
            f"{note.get('what')} since {note.get('since')}"
        )

    def acquire(self, what: str, timeout: float) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        file = self.path.open("a+")
        deadline = time.monotonic() + timeout
        waiting = False
        while True:
            try:
                fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not waiting:
                    logger.warning(
                        "Waiting for %s (%s) to finish; giving up after %.0f s",
                        self.path,
                        self.holder(),
                        timeout,
                    )
                    waiting = True
                if time.monotonic() > deadline:
                    holder = self.holder()
                    file.close()
                    raise LockTimeoutError(
                        f"{self.path} is held by {holder} for more than {timeout:.0f} s: "
                        "another run is using this game's data. Wait for it to "
                        f"finish, or set {TIMEOUT_ENV} to wait longer."
                    ) from None
                time.sleep(_POLL_SECONDS)
        file.seek(0)
        file.truncate()
        file.write(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "what": what,
                    "since": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                }
            )
        )
        file.flush()
        self._file = file

    def release(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.truncate(0)
                fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def lock_timeout() -> float:
    try:
        return float(os.environ.get(TIMEOUT_ENV, "600"))
    except ValueError:
        return 600.0


@contextlib.contextmanager
def store_lock(database: Path) -> Iterator[None]:
    """Hold a lock beside an sqlite database file while the block runs."""
    lock = FileLock(database.with_name(database.name + ".lock"))
    lock.acquire("creating the MLflow store", lock_timeout())
    try:
        yield
    finally:
        lock.release()
