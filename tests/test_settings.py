"""Settings only declare: importing them changes nothing in the process; entry points tune it."""

from __future__ import annotations

import subprocess
import sys

import pytest

STATE = """
import atexit, ctypes, gc, sys
libc = ctypes.CDLL(None)
PR_SET_THP_DISABLE, PR_GET_THP_DISABLE = 41, 42
if sys.platform.startswith("linux"):
    libc.prctl(PR_SET_THP_DISABLE, 0, 0, 0, 0)  # on, whatever the parent chose

def state():
    return (
        libc.prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) if sys.platform.startswith("linux") else 0,
        atexit._ncallbacks(),
        gc.isenabled(),
        gc.get_freeze_count(),
        gc.get_threshold(),
    )

import kedro.config, omegaconf.resolvers, mlflow, kedro_mlflow.framework.hooks  # the libraries' own
before = state()
import {module}
after = state()
print(before == after, before[0], after[0], after[1] - before[1])
"""


def _python(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_importing_the_settings_changes_no_process_setting():
    # huge pages, exit handlers, the collector: as they were before the import
    assert _python(STATE.format(module="kedro_ml.settings")) == "True 0 0 0"


def test_importing_the_cli_changes_no_process_setting_until_a_command_runs():
    assert _python(STATE.format(module="kedro_ml.cli")) == "True 0 0 0"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a Linux setting")
def test_kedro_run_tunes_the_process_before_kedros_own_run(monkeypatch):
    from kedro.framework.cli.project import run as kedro_run

    from kedro_ml import cli

    calls = []
    monkeypatch.setattr(cli, "tune_process", lambda: calls.append("tuned"))
    assert cli.run.name == "run" and cli.run.params == kedro_run.params
    assert cli.cli.get_command(None, "run") is cli.run
    with pytest.raises(TypeError):  # Kedro's own run, reached with no arguments
        cli.run.callback()
    assert calls == ["tuned"]


def test_every_project_command_tunes_the_process(monkeypatch):
    from kedro_ml import cli

    calls = []
    monkeypatch.setattr(cli, "tune_process", lambda: calls.append("tuned"))
    for name in ("retrain-if-drifted", "replay", "serve"):
        command = cli.cli.get_command(None, name)
        with pytest.raises(TypeError):  # the command's body, reached without arguments
            command.callback.__wrapped__()
    assert calls == ["tuned"] * 3
