"""Files written whole (kedro_ml.files): the rename, the failure path, the sweep of leftovers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from kedro_ml import files


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_finished_write_replaces_the_file_and_leaves_nothing_beside_it(tmp_path):
    target = tmp_path / "deep" / "table.json"
    with files.atomic_path(target) as temporary:
        assert temporary.parent == target.parent
        assert temporary.name.startswith(".table.json.")
        temporary.write_text("new")
    assert target.read_text() == "new"
    assert sorted(p.name for p in target.parent.iterdir()) == ["table.json"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "table.json"
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt), files.atomic_path(target) as temporary:
        temporary.write_text("half")
        (temporary.parent / (temporary.name + "-journal")).write_text("j")
        raise KeyboardInterrupt
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.json"]


def test_a_folder_takes_the_place_of_the_old_one(tmp_path):
    target = tmp_path / "table.parquet"
    target.mkdir()
    (target / "part-0").write_text("old")
    with files.atomic_path(target) as temporary:
        temporary.mkdir()
        (temporary / "part-1").write_text("new")
    assert sorted(p.name for p in target.iterdir()) == ["part-1"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.parquet"]


def test_the_next_write_removes_what_dead_writers_left_and_nothing_else(tmp_path):
    target = tmp_path / "t.parquet"
    host = files._host()
    dead = _dead_pid()
    leftovers = {
        # a killed writer of this host: its file and its SQLite journal
        f".t.parquet.{host}-{dead}-0123456789ab.partial": True,
        f".t.parquet.{host}-{dead}-0123456789ab.partial-journal": True,
        # a writer still running (this test's parent process)
        f".t.parquet.{host}-{os.getppid()}-0123456789ab.partial": False,
        # another host's, recent: it may still be writing
        ".t.parquet.otherhost-1-0123456789ab.partial": False,
        # another target's leftovers are not this write's business
        f".u.parquet.{host}-{dead}-0123456789ab.partial": False,
    }
    for name in leftovers:
        (tmp_path / name).write_text("half")
    old_foreign = tmp_path / ".t.parquet.otherhost-2-0123456789ab.partial"
    old_foreign.write_text("half")
    os.utime(old_foreign, (0, 0))  # a day old and more
    with files.atomic_path(target) as temporary:
        temporary.write_text("whole")
    left = {p.name for p in tmp_path.iterdir()}
    for name, removed in leftovers.items():
        assert (name not in left) == removed, name
    assert old_foreign.name not in left
    assert target.read_text() == "whole"


def test_names_with_glob_characters_are_swept_as_themselves(tmp_path):
    target = tmp_path / "t[1]*.json"
    stray = tmp_path / f".t[1]*.json.{files._host()}-{_dead_pid()}-0123456789ab.partial"
    stray.write_text("half")
    other = tmp_path / f".t1x.json.{files._host()}-{_dead_pid()}-0123456789ab.partial"
    other.write_text("half")
    files.sweep(target)
    assert not stray.exists()
    assert other.exists()


def test_the_host_name_is_kept_safe_for_file_names(monkeypatch):
    monkeypatch.setattr(socket, "gethostname", lambda: "a.b-c d")
    name = files.partial_path("/x/y.json").name
    assert name.startswith(".y.json.a_b_c_d-")
    assert name.endswith(".partial")
