"""The Makefile's own checks: a port a tool cannot take is one line, before anything starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT


def _make(*args: str) -> subprocess.CompletedProcess:
    venv = Path(sys.prefix)
    return subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-s",
            f"VENV={venv}",
            "-o",
            str(venv / ".installed"),  # the environment running these tests
            *args,
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("target", "port", "message"),
    [
        ("viz", "50000", "PORT=50000 is outside 1-49151, the ports kedro viz takes"),
        ("viz", "0", "PORT=0 is outside 1-49151"),
        ("viz", "41a", "PORT=41a is not a port number: give one from 1 to 49151"),
        (
            "serve",
            "70000",
            "PORT=70000 is outside 1-65535, the ports the model server takes",
        ),
        ("mlflow-ui", "", "PORT= is not a port number"),
        ("notebook", "-1", "PORT=-1 is not a port number"),
    ],
)
def test_a_bad_port_is_one_line_and_nothing_starts(target, port, message):
    result = _make(target, f"PORT={port}")
    assert result.returncode == 2
    assert result.stderr.startswith(message)
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stdout == ""
