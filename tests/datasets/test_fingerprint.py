"""Content digests of raw files, remembered per (size, modification time) outside the data."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from kedro_ml.datasets.arrow_csv import ArrowCSVDataset
from kedro_ml.datasets.fingerprint import file_digest


@pytest.fixture(autouse=True)
def cache_home(tmp_path, monkeypatch):
    home = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home


def test_digest_is_the_sha256_of_the_contents(tmp_path):
    a = tmp_path / "a.csv"
    a.write_bytes(b"x,y\n1,2\n")
    assert file_digest(a) == hashlib.sha256(b"x,y\n1,2\n").hexdigest()


def test_the_memo_lives_in_the_cache_folder_not_beside_the_data(tmp_path, cache_home):
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.csv").write_bytes(b"x\n1\n")
    file_digest(data / "a.csv")
    assert [p.name for p in data.iterdir()] == ["a.csv"]
    assert (cache_home / "kedro_ml" / "file_digests.json").is_file()


def test_an_edited_file_gets_a_new_digest(tmp_path):
    a = tmp_path / "a.csv"
    a.write_bytes(b"x\n1\n")
    before = file_digest(a)
    a.write_bytes(b"x\n2\n")
    os.utime(a, ns=(a.stat().st_atime_ns, a.stat().st_mtime_ns + 1_000_000))
    assert file_digest(a) == hashlib.sha256(b"x\n2\n").hexdigest() != before


def test_an_unchanged_file_is_not_hashed_again(tmp_path):
    a = tmp_path / "a.csv"
    a.write_bytes(b"x\n1\n")
    first = file_digest(a)
    stat = a.stat()
    a.write_bytes(b"x\n9\n")  # same size, and the same time set back
    os.utime(a, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert file_digest(a) == first


def test_the_memo_forgets_files_that_are_gone(tmp_path, cache_home):
    gone, kept = tmp_path / "gone.csv", tmp_path / "kept.csv"
    gone.write_bytes(b"x\n1\n")
    file_digest(gone)
    gone.unlink()
    kept.write_bytes(b"x\n2\n")
    file_digest(kept)
    memo = json.loads((cache_home / "kedro_ml" / "file_digests.json").read_text())
    assert list(memo) == [str(kept.resolve())]


def test_a_memo_that_cannot_be_written_is_skipped(tmp_path, cache_home):
    (cache_home / "kedro_ml").mkdir(parents=True)
    (cache_home / "kedro_ml" / "file_digests.json").mkdir()  # not a file
    a = tmp_path / "a.csv"
    a.write_bytes(b"x\n1\n")
    assert file_digest(a) == hashlib.sha256(b"x\n1\n").hexdigest()


def test_the_raw_dataset_fingerprints_its_file(tmp_path):
    path = tmp_path / "t.csv"
    dataset = ArrowCSVDataset(filepath=str(path))
    assert dataset.fingerprint() is None  # no file yet
    path.write_bytes(b"a\n1\n")
    assert dataset.fingerprint() == hashlib.sha256(b"a\n1\n").hexdigest()
