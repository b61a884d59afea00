"""Tables written in the background during a run are on disk when the run ends."""

from __future__ import annotations

import logging
import threading
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io.core import DatasetError

from kedro_ml.datasets import write_behind

logger = logging.getLogger(__name__)


class BackgroundWrites:
    """Turns ``WriteBehindDataset`` on for a run and waits for its writes.

    The wait is after the last output of the last node is saved, inside the
    runner: a failed write fails the run as a failed save would, and every
    hook's ``on_pipeline_error`` runs (the MLflow run is marked failed, the
    game's lock released). A run that fails waits too, so the outputs of the
    nodes that finished are written; a write that failed then is logged.
    """

    def __init__(self) -> None:
        self._nodes_left: set[str] = set()
        self._outputs_left: set[str] = set()
        self._active = False
        self._lock = threading.Lock()  # ThreadRunner calls node hooks from its threads

    @hook_impl
    def before_pipeline_run(self, pipeline: Any) -> None:
        self._nodes_left = {node.name for node in pipeline.nodes}
        self._outputs_left = set(pipeline.all_outputs())

    @hook_impl
    def before_node_run(self) -> None:
        # at the first node, once every before_pipeline_run hook went through:
        # a run stopped before it (a failed check) leaves nothing turned on
        with self._lock:
            if self._active:
                return
            self._active = True
        write_behind.run_started()

    def _finish(self) -> None:
        try:
            write_behind.wait_for_writes()
        finally:
            write_behind.run_ended()

    def _done(self, node: str | None = None, output: str | None = None) -> None:
        with self._lock:
            self._nodes_left.discard(node)
            self._outputs_left.discard(output)
            last = self._active and not self._nodes_left and not self._outputs_left
            if last:
                self._active = False
        if last:
            self._finish()

    @hook_impl
    def after_node_run(self, node: Any) -> None:
        self._done(node=node.name)  # a last node without outputs finishes here

    @hook_impl
    def after_dataset_saved(self, dataset_name: str) -> None:
        self._done(output=dataset_name)

    @hook_impl
    def after_pipeline_run(self) -> None:
        self._finish_logged()  # a safety net: the last save or node has waited already

    @hook_impl
    def on_pipeline_error(self) -> None:
        self._finish_logged()

    def _finish_logged(self) -> None:
        with self._lock:
            if not self._active:
                return
            self._active = False
        try:
            self._finish()
        except DatasetError as error:
            logger.error("%s", error)
