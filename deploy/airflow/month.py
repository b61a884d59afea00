"""``make airflow-month MONTH=YYYY-MM-01 [ENV=...]``: the monthly DAG run once by Airflow itself.

``airflow db migrate`` on a temporary AIRFLOW_HOME, then ``airflow dags test
kedro_ml_monthly MONTH`` with the DAGs of deploy/airflow/dags: every task runs
for real, in order, in this machine's project. Exits non-zero when a task
fails (or runs no task), printing the end of that task's log; the temporary
AIRFLOW_HOME is then kept (its path is printed).

Runs with Airflow's own venv (``make airflow-setup``): standard library only.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

DAG_ID = "kedro_ml_monthly"
STAGES = ("predict", "score", "retrain", "refresh", "history")
HERE = Path(__file__).resolve().parent
TAIL_LINES = 40


def _sections(lines: list[str]) -> dict[str, list[str]]:
    """The console lines of each task of ``airflow dags test``, by task id (every attempt)."""
    sections: dict[str, list[str]] = {}
    current = None
    for line in lines:
        found = re.search(r"\[DAG TEST\] starting task_id=(\S+)", line)
        if found:
            current = found.group(1)
        if current is not None:
            sections.setdefault(current, []).append(line)
        if re.search(r"\[DAG TEST\] end task task_id=", line):
            current = None
    return sections


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not re.fullmatch(r"\d{4}-\d{2}-01", argv[0]):
        print(
            "Give the month to operate: make airflow-month MONTH=YYYY-MM-01 [ENV=...]",
            file=sys.stderr,
        )
        return 2
    month = argv[0]
    airflow = Path(sys.executable).parent / "airflow"
    home = Path(tempfile.mkdtemp(prefix="kedro_ml-airflow-"))
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(HERE / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "KEDRO_ML_PROJECT": os.environ.get("KEDRO_ML_PROJECT") or str(HERE.parents[1]),
        "KEDRO_DISABLE_TELEMETRY": "1",
        "DO_NOT_TRACK": "1",
    }
    migrated = subprocess.run(
        [str(airflow), "db", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if migrated.returncode != 0:
        print(migrated.stdout[-3000:] + migrated.stderr[-3000:], file=sys.stderr)
        print(f"airflow db migrate failed (AIRFLOW_HOME kept: {home})", file=sys.stderr)
        return migrated.returncode
    print(f"Airflow: dags test {DAG_ID} {month} (AIRFLOW_HOME {home})", flush=True)
    lines: list[str] = []
    with subprocess.Popen(
        [str(airflow), "dags", "test", DAG_ID, month],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as tested:
        for line in tested.stdout:
            print(line, end="", flush=True)
            lines.append(line.rstrip("\n"))
    sections = _sections(lines)
    failed = [
        task
        for task, text in sections.items()
        if any("Task failed" in line for line in text)
    ]
    if tested.returncode == 0 and not failed and set(sections) >= set(STAGES):
        shutil.rmtree(home, ignore_errors=True)
        print(f"{DAG_ID} {month}: every task succeeded ({', '.join(STAGES)}).")
        return 0
    if failed:
        task = failed[0]
        print(f"\n--- the end of task {task}'s log ---", file=sys.stderr)
        print("\n".join(sections[task][-TAIL_LINES:]), file=sys.stderr)
        print(f"--- task {task} of {DAG_ID} {month} failed ---", file=sys.stderr)
    elif tested.returncode == 0:
        missing = [stage for stage in STAGES if stage not in sections]
        print(
            f"{DAG_ID} {month}: the run ended without running {', '.join(missing)} "
            "(a month before the DAG's start_date in conf/base/airflow.yml, "
            "kedro_ml_monthly, runs no task)",
            file=sys.stderr,
        )
    else:
        print(
            f"{DAG_ID} {month} failed (exit code {tested.returncode})", file=sys.stderr
        )
    print(f"AIRFLOW_HOME kept: {home}", file=sys.stderr)
    return tested.returncode or 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
