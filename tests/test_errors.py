"""Errors raised on purpose are told as messages; bugs keep their tracebacks."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner
from kedro.io.core import DatasetError

from kedro_ml.core.validation import RawDataError
from kedro_ml.errors import (
    TRACEBACK_ENV,
    lost_server,
    message,
    node_of,
    tracebacks_wanted,
)


def _raised_in_dataset() -> DatasetError:
    """What Kedro makes of a dataset's own error: its DatasetError, raised from ours."""
    try:
        try:
            raise RawDataError(
                "sub_data.csv, column 'price', line 3: expected a number"
            )
        except RawDataError as ours:
            raise DatasetError(
                "Failed while loading data from dataset ArrowCSVDataset(...)"
            ) from ours
    except DatasetError as wrapped:
        return wrapped


def test_the_innermost_project_message_is_the_one_told():
    error = _raised_in_dataset()
    assert message(error) == "sub_data.csv, column 'price', line 3: expected a number"


def test_the_failing_node_is_named_when_the_run_noted_it():
    error = RawDataError("bad file")
    error.add_note("in node validate_sub_data")
    assert node_of(error) == "validate_sub_data"
    assert message(error) == "validate_sub_data failed: bad file"


def test_a_kedro_dataset_error_alone_is_a_message():
    assert message(DatasetError("data/x.parquet does not exist")) == (
        "data/x.parquet does not exist"
    )


@pytest.mark.parametrize(
    "error", [KeyError("x"), TypeError("unsupported operand"), ZeroDivisionError()]
)
def test_a_bug_is_not_a_message(error):
    assert message(error) is None


@pytest.mark.parametrize(
    ("value", "wanted"),
    [
        ("", False),
        ("0", False),
        ("false", False),
        ("No", False),
        ("1", True),
        ("yes", True),
    ],
)
def test_the_traceback_switch(monkeypatch, value, wanted):
    monkeypatch.setenv(TRACEBACK_ENV, value)
    assert tracebacks_wanted() is wanted


def _command(error: Exception) -> click.Command:
    from kedro_ml.cli import _tuned

    @click.command()
    @_tuned
    def command() -> None:
        raise error

    return command


def test_a_command_ends_with_the_message_and_no_traceback(monkeypatch):
    monkeypatch.delenv(TRACEBACK_ENV, raising=False)
    result = CliRunner().invoke(_command(_raised_in_dataset()))
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "Error: sub_data.csv, column 'price', line 3: expected a number",
        f"({TRACEBACK_ENV}=1 shows where it was raised)",
    ]
    assert "Traceback" not in result.output


def test_the_traceback_on_request_and_for_bugs(monkeypatch):
    monkeypatch.setenv(TRACEBACK_ENV, "1")
    result = CliRunner().invoke(_command(_raised_in_dataset()))
    assert isinstance(result.exception, DatasetError)  # raised as it was
    monkeypatch.delenv(TRACEBACK_ENV)
    result = CliRunner().invoke(_command(KeyError("a bug")))
    assert isinstance(result.exception, KeyError)


# what MLflow raises once its retries against a server that went away are spent
_LOST = (
    "API request to http://127.0.0.1:5080/api/2.0/mlflow/runs/log-batch failed with "
    "exception HTTPConnectionPool(host='127.0.0.1', port=5080): Max retries exceeded "
    "with url: /api/2.0/mlflow/runs/log-batch (Caused by NewConnectionError(...: "
    'Failed to establish a new connection: [Errno 111] Connection refused"))'
)


def test_a_tracking_server_that_went_away_is_told_with_what_to_do():
    try:
        try:
            raise RuntimeError(
                _LOST
            )  # MLflow's own exception type carries the same text
        except RuntimeError as lost:
            raise DatasetError("Failed while saving data to dataset X") from lost
    except DatasetError as error:
        error.add_note("in node log_model")
        text = message(error)
    assert text.startswith("log_model failed: The MLflow tracking server at ")
    assert "http://127.0.0.1:5080 stopped answering (Connection refused)" in text
    assert "run the command again" in text


def test_other_errors_are_not_a_lost_server():
    assert lost_server(RuntimeError("API request to http://x failed? no")) is None
    assert lost_server(ValueError("Connection refused")) is None
