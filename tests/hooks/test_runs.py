"""The run's surroundings: a run asked to stop stops at the next node boundary."""

from __future__ import annotations

import pytest

from kedro_ml import runtime
from kedro_ml.hooks import runs


def test_a_swallowed_termination_stops_the_run_at_the_next_node(monkeypatch):
    hook = runs.StopWhenTerminated()
    hook.before_node_run()  # nothing asked: nothing happens
    hook.after_node_run()
    monkeypatch.setattr(runs, "terminating", lambda: True)
    with pytest.raises(runtime.Terminated, match="stopped by signal SIGTERM"):
        hook.before_node_run()
    with pytest.raises(runtime.Terminated):
        hook.after_node_run()


def test_the_signal_handler_notes_the_request_before_raising(monkeypatch):
    import signal

    event = runtime.threading.Event()
    monkeypatch.setattr(runtime, "_TERMINATING", event)
    with pytest.raises(runtime.Terminated):
        runtime._terminated(signal.SIGTERM, None)
    assert runtime.terminating()
