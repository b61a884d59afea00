"""Where a tracked run comes from: its name, the run that triggered it, its owner, its data.

Every MLflow run the project opens (a ``kedro run``, a project command, a
replayed month) is named for what ran and for which game, carries the host
and process that own it from its creation, and, when a project command
started it for another run, that run's id (``triggered_by``: a child of it in
the MLflow UI). A run whose owner process is gone while it is still RUNNING
was killed mid-way: ``fail_orphaned_runs`` marks it FAILED.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
import logging
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kedro_ml.files import process_alive

logger = logging.getLogger(__name__)

HOST_TAG = "kedro_ml.host"
PID_TAG = "kedro_ml.pid"
MLFLOW_RUN_CONTEXT = "MLFLOW_RUN_CONTEXT"

# The run that triggered the one about to start (a project command sets it).
_triggered_by: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "kedro_ml_triggered_by", default=None
)


@contextlib.contextmanager
def triggered_by(run_id: str) -> Iterator[None]:
    """Tag the runs started inside the block as children of the MLflow run ``run_id``."""
    token = _triggered_by.set(run_id)
    try:
        yield
    finally:
        _triggered_by.reset(token)


def trigger() -> str | None:
    """The run that triggered the runs starting now (``triggered_by``), or None."""
    return _triggered_by.get()


def lineage_tags() -> dict[str, str]:
    """The tags that make a run starting now the child of the run that triggered it."""
    parent = trigger()
    return {"triggered_by": parent, "mlflow.parentRunId": parent} if parent else {}


def run_name(pipeline_names: list[str] | None, game: str) -> str:
    """A run name that says what ran and for which game."""
    names = pipeline_names or ["__default__"]
    label = "+".join("lifecycle" if n == "__default__" else n for n in names)
    return f"{label} · {game}"


@contextlib.contextmanager
def owner_tags() -> Iterator[None]:
    """Runs started in the block carry this host and process from their creation.

    MLflow adds the tags of ``MLFLOW_RUN_CONTEXT`` (JSON) to every run it
    creates, so a kill right after the creation cannot lose them.
    """
    before = os.environ.get(MLFLOW_RUN_CONTEXT)
    tags = json.loads(before) if before else {}
    tags.update({HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())})
    os.environ[MLFLOW_RUN_CONTEXT] = json.dumps(tags)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(MLFLOW_RUN_CONTEXT, None)
        else:
            os.environ[MLFLOW_RUN_CONTEXT] = before


def owner() -> dict[str, str]:
    """The owner tags of a run this process creates through the client."""
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}


def fail_orphaned_runs() -> list[str]:
    """Mark FAILED the runs left RUNNING by processes of this host that ended mid-run (any experiment).

    A run records its host and process id (``owner_tags``); a run still
    RUNNING whose process on this host is gone was killed mid-way, and would
    otherwise stay RUNNING forever. Returns the run ids it closed.
    """
    import mlflow

    host = socket.gethostname()
    closed = []
    client = mlflow.MlflowClient()
    # every experiment of the store: a replay's runs are in an experiment of their own
    for run in mlflow.search_runs(
        filter_string=f"attributes.status = 'RUNNING' and tags.`{HOST_TAG}` = '{host}'",
        output_format="list",
        search_all_experiments=True,
    ):
        pid = int(run.data.tags.get(PID_TAG, "0") or 0)
        if pid and pid != os.getpid() and not process_alive(pid):
            client.set_terminated(run.info.run_id, "FAILED")
            client.set_tag(
                run.info.run_id, "kedro_ml.closed", f"process {pid} ended mid-run"
            )
            closed.append(run.info.run_id)
    if closed:
        logger.warning(
            "Marked %d run(s) FAILED whose process ended mid-run: %s",
            len(closed),
            ", ".join(closed),
        )
    return closed


def _git(project_path: str | Path | None, *args: str) -> str | None:
    """What ``git <args>`` prints in ``project_path``, or None (no git, not a work tree)."""
    try:
        result = subprocess.run(
            ["git", *args],
            cwd=project_path,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout if result.returncode == 0 else None


def git_commit(project_path: str | None) -> str | None:
    """The commit checked out in ``project_path``, or None outside a git work tree."""
    printed = _git(project_path, "rev-parse", "HEAD")
    return printed.strip() if printed else None


def tracked_files(project_path: str | Path | None, paths: list[Path]) -> list[str]:
    """Those of ``paths`` git tracks in ``project_path`` (none outside a git work tree)."""
    if not paths:
        return []
    printed = _git(project_path, "ls-files", "--", *(str(p) for p in paths))
    return printed.splitlines() if printed else []


def raw_fingerprint(pipeline: Any, catalog: Any) -> str:
    """One SHA-256 over the digests of the pipeline's raw inputs, in name order.

    A raw input is a free input on the ``raw`` layer whose dataset can
    fingerprint its file (``kedro_ml.datasets.arrow_csv.ArrowCSVDataset``).
    """
    digest = hashlib.sha256()
    found = False
    for name in sorted(pipeline.inputs()):
        if name.startswith("params:") or name == "parameters" or name not in catalog:
            continue
        dataset = catalog.get(name)
        layer = ((getattr(dataset, "metadata", None) or {}).get("kedro-viz") or {}).get(
            "layer"
        )
        fingerprint = getattr(dataset, "fingerprint", None)
        if layer != "raw" or not callable(fingerprint):
            continue
        value = fingerprint()
        if value is not None:
            digest.update(name.encode())
            digest.update(bytes.fromhex(value))
            found = True
    return digest.hexdigest() if found else "none"
