"""Files written whole: under a temporary name beside the target, then renamed into place.

A process killed while it writes (``kill -9``, the OOM killer, a container
stop) leaves the previous file as it was and, at worst, a hidden temporary
``.<name>.<host>-<pid>-<random>.partial`` beside it (and SQLite's journal of
one, ``...partial-journal``). The next write of the same target removes the
leftovers of writers that are gone: their process no longer runs on this host,
or they were left by another host more than a day ago.

A file is replaced with one ``os.replace`` (atomic on POSIX). A folder (a
Spark table, a set of plots) cannot be swapped in one step: the old folder is
renamed aside first, so a kill between the two renames leaves the table
missing (a later run says which run makes it), never half of one.

This guards against killed processes, not against power loss: nothing is
flushed to the disk before the rename.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

SUFFIX = ".partial"
# leftovers of another host are removed once they are this old (seconds)
_FOREIGN_AGE = 24 * 3600


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", socket.gethostname()) or "host"


def partial_path(path: str | Path) -> Path:
    """A fresh temporary name beside ``path``, owned by this process."""
    path = Path(path)
    owner = f"{_host()}-{os.getpid()}-{uuid.uuid4().hex[:12]}"
    return path.parent / f".{path.name}.{owner}{SUFFIX}"


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this host (someone else's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it runs, as another user
    return True


def _left_behind(leftover: Path, host: str) -> bool:
    """Whether ``leftover`` belongs to a writer that can no longer finish it."""
    owner = leftover.name.rsplit(".", 2)[-2] if leftover.name.count(".") >= 3 else ""
    match = re.fullmatch(r"(?P<host>.+)-(?P<pid>\d+)-[0-9a-f]+", owner)
    if match is None:
        # not a name this module gives: an older writer's, removed once it is old
        return _older_than(leftover, 3600)
    if match["host"] != host:
        return _older_than(leftover, _FOREIGN_AGE)
    return int(match["pid"]) != os.getpid() and not process_alive(int(match["pid"]))


def _older_than(path: Path, seconds: float) -> bool:
    try:
        return time.time() - path.lstat().st_mtime > seconds
    except FileNotFoundError:
        return False


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


def sweep(path: str | Path) -> list[Path]:
    """Remove what killed writes of ``path`` left beside it; return what was removed."""
    path = Path(path)
    if not path.parent.is_dir():
        return []
    host = _host()
    removed = []
    for leftover in path.parent.glob(f".{glob.escape(path.name)}.*{SUFFIX}*"):
        stem = leftover.name
        if stem.endswith("-journal") or stem.endswith("-wal") or stem.endswith("-shm"):
            stem = stem.rsplit("-", 1)[0]
        if _left_behind(leftover.with_name(stem), host):
            _remove(leftover)
            removed.append(leftover)
    return removed


def put_in_place(temporary: Path, path: Path) -> None:
    """Rename the finished ``temporary`` to ``path`` (a file at once, a folder by a swap)."""
    if temporary.is_dir() and not temporary.is_symlink():
        aside = None
        if path.exists():
            aside = partial_path(path)
            os.replace(path, aside)
        os.replace(temporary, path)
        if aside is not None:
            _remove(aside)
        return
    os.replace(temporary, path)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it becomes ``path``, on failure it is removed.

    Leftovers of earlier killed writes of ``path`` are removed first.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sweep(path)
    temporary = partial_path(path)
    try:
        yield temporary
        put_in_place(temporary, path)
    except BaseException:
        _remove(temporary)
        for journal in ("-journal", "-wal", "-shm"):
            _remove(temporary.with_name(temporary.name + journal))
        raise
