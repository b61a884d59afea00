"""Airflow DAG ``kedro_ml_monthly``: one month of a game's operation, a task per stage.

Each run operates the month of its logical date (its data interval: the run
for June starts once June has closed). The tasks are the stages of
``kedro operate`` (``kedro_ml.orchestration.operation``): predict, score,
retrain, refresh, history, in that order, each one project command in the
project's folder with its own MLflow run; what one leaves for the next is in
the project's files, never in a task's memory. A month starts only once the
month before it has been operated to its end (the command refuses otherwise,
and ``depends_on_past`` keeps the scheduler from trying).

Where it runs is set by the worker's environment:

* ``KEDRO_ML_PROJECT``: the project folder (default: the one this file is in);
* ``KEDRO_ML_KEDRO``: the ``kedro`` to run (default: the project's
  ``.venv/bin/kedro``, as ``make install`` makes it; in the project's image, ``kedro``);
* ``KEDRO_ML_ENV``: the game's Kedro environment (default: none, Kedro's ``local``);
* ``MLFLOW_TRACKING_URI`` and the rest of the environment pass to the tasks.

Retries, their delay, the timeout and the first month come from
``kedro_ml_monthly`` in the project's ``conf/base/airflow.yml``.
"""

from __future__ import annotations

import os
import shlex
from datetime import datetime, timedelta
from pathlib import Path

import pendulum
import yaml
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG
from airflow.timetables.interval import CronDataIntervalTimetable

DAG_ID = "kedro_ml_monthly"
STAGES = ("predict", "score", "retrain", "refresh", "history")
PROJECT = Path(
    os.environ.get("KEDRO_ML_PROJECT") or Path(__file__).resolve().parents[3]
)
KEDRO = os.environ.get("KEDRO_ML_KEDRO") or str(PROJECT / ".venv" / "bin" / "kedro")
ENV = os.environ.get("KEDRO_ML_ENV") or None


def _settings() -> dict:
    """``kedro_ml_monthly`` of conf/base/airflow.yml (retries, delay, timeout, start)."""
    path = PROJECT / "conf" / "base" / "airflow.yml"
    config = yaml.safe_load(path.read_text()) or {}
    return config.get(DAG_ID) or {}


SETTINGS = _settings()
# the month operated: the logical date's (a scheduled run's is its data interval's start)
MONTH = "{{ logical_date.strftime('%Y-%m-01') }}"


def _command(stage: str) -> str:
    """The stage's project command, in the project's folder."""
    words = [KEDRO, "operate", "--month", MONTH, "--stage", stage]
    if ENV:
        words.append(f"--env={ENV}")
    quoted = " ".join(w if w == MONTH else shlex.quote(w) for w in words)
    return f"cd {shlex.quote(str(PROJECT))} && {quoted}"


with DAG(
    dag_id=DAG_ID,
    description="One month of kedro_ml's loop: predict, score, retrain, refresh, history",
    # a run per month, once it has closed; its logical date is the month's first day
    schedule=CronDataIntervalTimetable(
        SETTINGS.get("cron", "0 3 1 * *"), timezone=pendulum.UTC
    ),
    start_date=datetime(*SETTINGS.get("start_date", [2015, 1, 1]), tzinfo=pendulum.UTC),
    catchup=bool(SETTINGS.get("catchup", False)),
    max_active_runs=1,
    default_args={
        "owner": "kedro_ml",
        "depends_on_past": True,
        "retries": int(SETTINGS.get("retries", 1)),
        "retry_delay": timedelta(seconds=int(SETTINGS.get("retry_delay_seconds", 30))),
        "execution_timeout": timedelta(
            minutes=int(SETTINGS.get("execution_timeout_minutes", 60))
        ),
    },
    tags=["kedro_ml", "monthly"],
    doc_md=__doc__,
) as dag:
    previous = None
    for stage in STAGES:
        task = BashOperator(task_id=stage, bash_command=_command(stage))
        if previous is not None:
            previous >> task
        previous = task
