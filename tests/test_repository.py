"""What the repository holds: no local store, lock or generated data tracked."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import PROJECT_ROOT


def _tracked() -> list[str]:
    try:
        result = subprocess.run(
            ["git", "ls-files"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return result.stdout.splitlines()


def test_no_store_lock_or_run_output_is_tracked():
    tracked = _tracked()
    local = [
        path
        for path in tracked
        if path.startswith(("mlflow.db", "mlruns/", "mlartifacts/", "build/", "dist/"))
        or path.endswith((".lock",))
        and path != "poetry.lock"
    ]
    assert local == []


def test_only_committed_samples_are_tracked_under_data():
    data = [p for p in _tracked() if p.startswith("data/")]
    unexpected = [
        p
        for p in data
        if not (p.endswith(".gitkeep") or "/01_raw/" in p and p.endswith(".csv"))
    ]
    assert unexpected == []
