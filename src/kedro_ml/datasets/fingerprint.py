"""Content digests of data files, remembered per (size, modification time).

Hashing a million characters' raw files takes most of a second; a file whose
size and modification time did not change keeps its digest, as ``git status``
does. The memo lives in the user's cache folder (``$XDG_CACHE_HOME`` or
``~/.cache``), never beside the data, and a memo that cannot be read or
written is simply not used.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

from kedro_ml.files import atomic_path


def _memo_path() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "kedro_ml" / "file_digests.json"


def _read_memo(memo_path: Path) -> dict:
    try:
        memo = json.loads(memo_path.read_text())
    except (OSError, ValueError):
        return {}
    return memo if isinstance(memo, dict) else {}


def _write_memo(memo_path: Path, memo: dict) -> None:
    """Write the memo whole, without the entries of files that are gone."""
    kept = {name: entry for name, entry in memo.items() if os.path.exists(name)}
    with contextlib.suppress(OSError):
        memo_path.parent.mkdir(parents=True, exist_ok=True)
        # written whole and renamed, so concurrent runs never read half a memo
        with atomic_path(memo_path) as temporary:
            temporary.write_text(json.dumps(kept, sort_keys=True))


def file_digest(path: str | Path) -> str:
    """SHA-256 of the file at ``path``, from the memo when the file is unchanged."""
    path = Path(path).resolve()
    stat = path.stat()
    stamp = [stat.st_size, stat.st_mtime_ns]
    memo_path = _memo_path()
    memo = _read_memo(memo_path)
    entry = memo.get(str(path))
    if isinstance(entry, dict) and entry.get("stamp") == stamp:
        return str(entry["sha256"])
    with path.open("rb") as f:
        digest = hashlib.file_digest(f, "sha256").hexdigest()
    memo[str(path)] = {"stamp": stamp, "sha256": digest}
    _write_memo(memo_path, memo)
    return digest
