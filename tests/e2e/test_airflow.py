"""`kedro airflow create` with the project's template makes a DAG Airflow 3 runs (`airflow dags test`).

Airflow is real: its own venv (`make airflow-setup`), `airflow db migrate` on a
temporary AIRFLOW_HOME, `airflow dags test` of the DAG made for a pipeline.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import mlflow
import pytest

from tests.conftest import PROJECT_ROOT, _copy_project

pytestmark = pytest.mark.slow

AIRFLOW_BIN = PROJECT_ROOT / "build" / "airflow-venv" / "bin"
TEMPLATE = PROJECT_ROOT / "deploy" / "airflow" / "kedro_dag.py.j2"
DAG_ID = "kedro-ml-sub-churn-train-from-raw"


@pytest.fixture
def airflow(tmp_path):
    """A project copy, an AIRFLOW_HOME migrated for it, and how to run Airflow's commands there."""
    if not (AIRFLOW_BIN / "airflow").is_file():
        pytest.fail("Airflow's environment is missing: run make airflow-setup")
    project = _copy_project(tmp_path / "project")
    dags = tmp_path / "dags"
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "MLFLOW_TRACKING_URI": f"sqlite:///{project / 'mlflow.db'}",
        "KEDRO_DISABLE_TELEMETRY": "1",
        "DO_NOT_TRACK": "1",
        "PATH": f"{AIRFLOW_BIN}{os.pathsep}{os.environ['PATH']}",
    }

    def run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(AIRFLOW_BIN / args[0]), *args[1:]],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    migrated = run("airflow", "db", "migrate")
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    return project, dags, run


def _create(run, dags: Path, project: Path, *params: str) -> Path:
    made = run(
        "kedro",
        "airflow",
        "create",
        "-p",
        "sub_churn_train_from_raw",
        "-j",
        str(TEMPLATE),
        "-t",
        str(dags),
        "--params",
        ",".join([f"project_path={project}", *params]),
    )
    assert made.returncode == 0, made.stdout + made.stderr
    (dag_file,) = dags.glob("*.py")
    return dag_file


def test_the_dag_of_a_pipeline_runs_in_airflow(airflow):
    project, dags, run = airflow
    dag_file = _create(run, dags, project)
    text = dag_file.read_text()
    assert f'dag_id="{DAG_ID}"' in text  # one dag id per pipeline, not the package's
    assert "retry_delay=timedelta(seconds=30)" in text  # conf/base/airflow.yml
    assert str(project) in text
    tested = run("airflow", "dags", "test", DAG_ID, "2017-06-01")
    output = tested.stdout + tested.stderr
    assert tested.returncode == 0, output[-4000:]
    assert "state=success" in output
    # one task per base pipeline, each its own Kedro run and MLflow run
    assert "task_id=sub_churn_standard_features" in output
    assert "task_id=sub_churn_train" in output
    client = mlflow.MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert len(runs) == 2 and all(r.info.status == "FINISHED" for r in runs)
    assert {r.data.tags.get("pipeline") for r in runs} == {"sub_churn_train_from_raw"}
    assert sum(
        "train_model" in str(r.data.params) or r.data.metrics != {} for r in runs
    )
    assert (project / "data" / "06_models" / "sub_churn_model.skops").is_dir()


def test_a_failing_task_fails_the_run_with_the_project_message(airflow):
    project, dags, run = airflow
    _create(run, dags, project, "retries=0")
    raw = project / "data" / "01_raw" / "sub_data.csv"
    raw.write_text(raw.read_text().replace(",", ";", 40))  # a corrupted export
    tested = run("airflow", "dags", "test", DAG_ID, "2017-06-01")
    output = tested.stdout + tested.stderr
    assert tested.returncode != 0, output[-4000:]
    # the project's own words, in the failing task's log
    assert "sub_data.csv: line" in output and "fields where the header has" in output
    # the training task never started on data that did not pass
    client = mlflow.MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert len(runs) <= 1  # the features task's run at most
    assert not any((project / "data" / "06_models").iterdir())
