"""The README's output blocks against fresh runs of their commands, values included."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import _copy_project, kedro_process
from tests.readme_blocks import block_starting, normalized

pytestmark = pytest.mark.slow


def _kedro(project: Path, *args: str):
    tracking = {"MLFLOW_TRACKING_URI": f"sqlite:///{project / 'mlflow.db'}"}
    return kedro_process(project, *args, env=tracking)


@pytest.fixture
def fresh_clone(tmp_path) -> Path:
    return _copy_project(tmp_path / "project")


def test_the_run_x_first_message_is_the_one_printed(fresh_clone):
    block = block_starting("$ .venv/bin/kedro run -p sub_churn_batch_predict")
    command, expected = block.split("\n", 1)
    result = _kedro(fresh_clone, "run", "-p", "sub_churn_batch_predict")
    assert result.returncode == 1
    assert (result.stdout + result.stderr).strip() == expected.strip()


def test_the_run_summary_is_the_one_make_run_prints(fresh_clone):
    result = _kedro(fresh_clone, "run")
    assert result.returncode == 0, result.stderr[-3000:]
    printed = result.stdout + result.stderr
    summary = printed[printed.index("Run finished:") :].strip()
    expected = block_starting("Run finished: lifecycle")
    assert normalized(summary) == normalized(expected)
