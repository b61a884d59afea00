"""The run's surroundings: its tracking store ready, one run at a time on a game's data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl

from kedro_ml.framework.locks import LOCK_NAME, FileLock, lock_timeout
from kedro_ml.framework.resolvers import use_project
from kedro_ml.framework.store import prepare_store
from kedro_ml.runtime import terminated_error, terminating


class TrackingStore:
    """Before kedro-mlflow connects: the project root noted, the store answering and created.

    MLflow would retry a dead server for minutes; two first runs would both
    create an sqlite store (an Alembic error): here it is created once, under
    a lock (``kedro_ml.framework.store``).
    """

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        use_project(context.project_path)
        prepare_store(context.config_loader)


class RunLock:
    """One run at a time on a game's data (``<data_root>/.kedro_ml.lock``).

    Two ``kedro run`` on one game's data would both write its tables and both
    move its champion: a second run waits, saying for whom
    (``kedro_ml.framework.locks``).
    """

    def __init__(self) -> None:
        self._data_root: Path | None = None
        self._lock: FileLock | None = None

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        data_root = context.config_loader["globals"].get("data_root", "data")
        self._data_root = Path(context.project_path) / data_root

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        self._release()  # a lock a failed start left behind in this process
        if self._data_root is None:
            return
        names = "+".join(run_params.get("pipeline_names") or ["__default__"])
        self._lock = FileLock(self._data_root / LOCK_NAME)
        self._lock.acquire(f"kedro run -p {names}", lock_timeout())

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    @hook_impl
    def after_pipeline_run(self) -> None:
        self._release()

    @hook_impl
    def on_pipeline_error(self) -> None:
        self._release()


class StopWhenTerminated:
    """A run asked to stop (SIGTERM) stops at the next node boundary, whatever swallowed the signal.

    ``kedro_ml.runtime`` raises ``Terminated`` where the signal lands; a broad
    ``except Exception`` in a library can swallow it. Checked again before and
    after each node, the run fails through Kedro's error path all the same.
    """

    @hook_impl
    def before_node_run(self) -> None:
        if terminating():
            raise terminated_error()

    @hook_impl
    def after_node_run(self) -> None:
        if terminating():
            raise terminated_error()
