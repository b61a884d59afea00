"""The raw-data fingerprint that tags every tracked run."""

from __future__ import annotations

import hashlib
import os

from kedro_ml.hooks import FINGERPRINT_CACHE, raw_fingerprint


def _expected(*contents: tuple[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name, data in contents:
        digest.update(name.encode())
        digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()


def test_fingerprint_is_a_digest_of_names_and_contents(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_bytes(b"x,y\n1,2\n")
    b.write_bytes(b"z\n3\n")
    assert raw_fingerprint([a, b]) == _expected(
        ("a.csv", b"x,y\n1,2\n"), ("b.csv", b"z\n3\n")
    )
    assert raw_fingerprint([b, a]) != raw_fingerprint([a, b])


def test_an_edited_file_changes_the_fingerprint(tmp_path):
    a = tmp_path / "a.csv"
    a.write_bytes(b"x\n1\n")
    before = raw_fingerprint([a])
    a.write_bytes(b"x\n2\n")
    os.utime(a, ns=(a.stat().st_atime_ns, a.stat().st_mtime_ns + 1_000_000))
    assert raw_fingerprint([a]) == _expected(("a.csv", b"x\n2\n")) != before


def test_an_unchanged_file_is_not_hashed_again(tmp_path):
    a = tmp_path / "a.csv"
    a.write_bytes(b"x\n1\n")
    first = raw_fingerprint([a])
    assert (tmp_path / FINGERPRINT_CACHE).is_file()
    # same size and modification time: the cached digest is used
    stat = a.stat()
    a.write_bytes(b"x\n9\n")
    os.utime(a, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert raw_fingerprint([a]) == first


def test_a_cache_that_cannot_be_written_is_skipped(tmp_path):
    a = tmp_path / "a.csv"
    a.write_bytes(b"x\n1\n")
    (tmp_path / FINGERPRINT_CACHE).mkdir()  # neither readable nor writable as a file
    assert raw_fingerprint([a]) == _expected(("a.csv", b"x\n1\n"))
