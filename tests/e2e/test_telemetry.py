"""Kedro's telemetry is off for every entry point the README shows, not only under make."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

KEDRO = str(Path(sys.executable).with_name("kedro"))

# Records, instead of sending, every event kedro-telemetry would send.
SPY = """
import os
import kedro_telemetry.plugin as plugin

def _record(*args, **kwargs):
    with open(os.environ["TELEMETRY_SPY"], "a") as f:
        f.write("sent\\n")

plugin._send_heap_event = _record
"""


@pytest.fixture
def spy(tmp_path):
    (tmp_path / "spy").mkdir()
    (tmp_path / "spy" / "sitecustomize.py").write_text(SPY)
    marker = tmp_path / "sent.txt"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("KEDRO_DISABLE_TELEMETRY", "DO_NOT_TRACK")
    }
    env.update(PYTHONPATH=str(tmp_path / "spy"), TELEMETRY_SPY=str(marker))
    return env, marker


def _kedro(project: Path, env: dict, *args: str) -> None:
    result = subprocess.run(
        [KEDRO, *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-2000:]


def test_the_kedro_command_sends_nothing_without_any_environment_variable(
    project_copy, spy
):
    env, marker = spy
    _kedro(project_copy, env, "registry", "list")
    _kedro(project_copy, env, "run", "-p", "sub_churn_standard_features")
    assert not marker.exists()


def test_the_spy_sees_what_would_be_sent_without_the_projects_consent_file(
    project_copy, spy
):
    env, marker = spy
    (project_copy / ".telemetry").unlink()
    _kedro(project_copy, env, "registry", "list")
    assert marker.read_text().count("sent") >= 1
