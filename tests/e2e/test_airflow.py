"""`kedro airflow create` with the project's template makes a DAG Airflow 3 runs (`airflow dags test`).

Airflow is real: its own venv (`make airflow-setup`), `airflow db migrate` on a
temporary AIRFLOW_HOME, `airflow dags test` of the DAG made for a pipeline.
"""

from __future__ import annotations

import json
import os
import shutil
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


# --------------------------------------------------------------------------
# The monthly DAG (deploy/airflow/dags/kedro_ml_monthly.py) against the replay

DEMO_ENV = "drift_demo_env"
DEMO_ROOT = Path("data") / "drift_demo"
MONTHS = ("2016-10-01", "2016-11-01", "2016-12-01")  # the demo's drift starts 2016-10
VENV = PROJECT_ROOT / ".venv"


def _write_cut(full: Path, raw: Path, month: str) -> None:
    """The raw files an export at the close of ``month`` holds (the independent cut)."""
    import csv

    from tests.replay_cut import FILES, cut

    for name, rows in cut(full, month).items():
        with (full / FILES[name]).open(newline="", encoding="utf-8") as file:
            header = next(csv.reader(file))
        with (raw / FILES[name]).open("w", newline="", encoding="utf-8") as file:
            writer = csv.DictWriter(file, fieldnames=header)
            writer.writeheader()
            writer.writerows(rows)


def _airflow_month(
    project: Path, month: str, home_env: dict
) -> subprocess.CompletedProcess:
    """``make airflow-month MONTH=... ENV=drift_demo_env`` in ``project``, as a user runs it."""
    return subprocess.run(
        [
            "make",
            "--no-print-directory",
            f"VENV={VENV}",
            f"AIRFLOW_VENV={AIRFLOW_BIN.parent}",
            "-o",
            str(VENV / ".installed"),
            "-o",
            str(AIRFLOW_BIN.parent / ".installed"),
            "airflow-month",
            f"MONTH={month}",
            f"ENV={DEMO_ENV}",
        ],
        cwd=project,
        env={**os.environ, **home_env},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.fixture(scope="module")
def monthly(tmp_path_factory):
    """The demo game replayed over three months, then operated by Airflow month by month."""
    import json

    from tests.conftest import kedro_process

    if not (AIRFLOW_BIN / "airflow").is_file():
        pytest.fail("Airflow's environment is missing: run make airflow-setup")
    base = tmp_path_factory.mktemp("monthly")
    project = _copy_project(base / "project")
    tracking = {"MLFLOW_TRACKING_URI": f"sqlite:///{project / 'mlflow.db'}"}
    made = kedro_process(
        project, "run", "-p", "sub_churn_synthesize", f"--env={DEMO_ENV}", env=tracking
    )
    assert made.returncode == 0, made.stderr[-3000:]
    replayed = kedro_process(
        project,
        "replay",
        f"--env={DEMO_ENV}",
        "--from",
        MONTHS[0],
        "--to",
        MONTHS[-1],
        env=tracking,
        timeout=900,
    )
    assert replayed.returncode == 0, replayed.stderr[-3000:]
    timeline = json.loads(
        (project / DEMO_ROOT / "08_reporting" / "replay" / "timeline.json").read_text()
    )
    raw = project / DEMO_ROOT / "01_raw"
    full = base / "full_raw"
    shutil.copytree(raw, full)
    runs = {}
    for month in MONTHS:
        _write_cut(full, raw, month)
        runs[month] = _airflow_month(project, month, tracking)
    return project, timeline, runs, full


def test_the_monthly_dag_decides_as_the_replay_did(monthly):
    import pandas as pd

    project, timeline, runs, _ = monthly
    for month, result in runs.items():
        output = result.stdout + result.stderr
        assert result.returncode == 0, f"{month}: {output[-4000:]}"
        for stage in ("predict", "score", "retrain", "refresh", "history"):
            assert f"task_id={stage}" in output
        assert "every task succeeded" in output
    operated = project / DEMO_ROOT / "08_reporting" / "monitoring"
    replayed = project / DEMO_ROOT / "replay" / "work"
    for entry in timeline["months"]:
        month = entry["month"]
        state = json.loads((operated / "months" / f"{month}.json").read_text())
        # the same batch, predicted by the same champion, to the last digit
        batch = f"07_model_output/batches/{month}.parquet"
        ours = pd.read_parquet(project / DEMO_ROOT / batch)
        theirs = pd.read_parquet(replayed / batch)
        # each names its own registry: the game's, and the replay's own copy of it
        assert set(ours.pop("model_source")) == {
            f"models:/sub_churn_drift_demo@champion (version {state['champion_version']})"
        }
        assert set(theirs.pop("model_source")) == {
            f"models:/sub_churn_drift_demo_replay@champion (version {entry['champion_version']})"
        }
        pd.testing.assert_frame_equal(
            ours.sort_values("sub_id").reset_index(drop=True),
            theirs.sort_values("sub_id").reset_index(drop=True),
            rtol=0,
            atol=1e-12,
        )
        # the same drift verdict and the same retraining decision
        for key in (
            "champion_model_id",
            "batch_size",
            "share_drifted",
            "drifted_features",
            "retrain_recommended",
            "reasons",
            "retrained",
            "promoted",
            "promotion_reason",
            "candidate_roc_auc",
            "scored_batches",
        ):
            assert state.get(key) == entry.get(key), (month, key)
        assert set(state["stages"]) == {
            "predict",
            "score",
            "retrain",
            "refresh",
            "history",
        }
    assert timeline["months"][0]["retrain_recommended"]  # the drift is seen at once


def test_each_stage_of_a_month_is_its_own_mlflow_run(monthly):
    project, *_ = monthly
    client = mlflow.MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("sub_churn_drift_demo")
    runs = client.search_runs(
        [experiment.experiment_id], "tags.pipeline = 'operate'", max_results=500
    )
    stages = [r for r in runs if "kedro_ml.stage" in r.data.tags]
    months = [r for r in runs if "kedro_ml.stage" not in r.data.tags]
    assert len(months) == 3 and len(stages) == 15
    assert all(r.info.status == "FINISHED" for r in runs)
    parents = {r.info.run_id for r in months}
    assert {r.data.tags["mlflow.parentRunId"] for r in stages} == parents
    monitoring = client.get_experiment_by_name("sub_churn_drift_demo_monitoring")
    (history_run,) = client.search_runs([monitoring.experiment_id])
    steps = [
        m.step for m in client.get_metric_history(history_run.info.run_id, "batch_size")
    ]
    assert steps == [201610, 201611, 201612]


def test_a_failing_task_stops_the_month_and_the_next_one_waits(monthly, tmp_path):
    project, _, _, full = monthly
    copy = _copy_project(tmp_path / "project")
    tracking = {"MLFLOW_TRACKING_URI": f"sqlite:///{copy / 'mlflow.db'}"}
    settings = copy / "conf" / "base" / "airflow.yml"  # no retry: a failure is final
    settings.write_text(settings.read_text().replace("retries: 1", "retries: 0"))
    raw = copy / DEMO_ROOT / "01_raw"
    raw.mkdir(parents=True, exist_ok=True)
    _write_cut(full, raw, MONTHS[0])
    first = _airflow_month(copy, MONTHS[0], tracking)
    assert first.returncode == 0, (first.stdout + first.stderr)[-4000:]
    _write_cut(full, raw, MONTHS[1])
    subs = raw / "sub_data.csv"
    subs.write_text(subs.read_text().replace(",", ";", 40))  # a corrupted export
    failed = _airflow_month(copy, MONTHS[1], tracking)
    output = failed.stdout + failed.stderr
    assert failed.returncode != 0, output[-4000:]
    # the project's own words, in the end of the failing task's log, named
    assert "task predict" in failed.stderr
    assert "sub_data.csv: line" in failed.stderr
    assert "fields where the header has" in failed.stderr
    # the next month does not start on what the failed one left
    _write_cut(full, raw, MONTHS[2])
    after = _airflow_month(copy, MONTHS[2], tracking)
    assert after.returncode != 0
    assert f"The last month operated is {MONTHS[0]}: operate {MONTHS[1]} next" in (
        after.stderr
    )
    months = sorted(
        p.stem for p in (copy / DEMO_ROOT / "07_model_output" / "batches").iterdir()
    )
    assert months == [MONTHS[0]]


def test_the_monitoring_page_shows_the_history_in_a_browser(monthly, tmp_path):
    """Chromium opens the static page: three points a series, each the table's value."""
    from html.parser import HTMLParser

    import pandas as pd

    from kedro_ml.core.monitoring_history import CHARTS
    from tests.e2e.test_viz import CHROMIUM_FLAGS, _chromium

    project, *_ = monthly
    folder = project / DEMO_ROOT / "08_reporting" / "monitoring"
    history = pd.read_csv(folder / "history.csv")
    assert list(history["month"]) == list(MONTHS)
    profile = "--user-data-dir=" + str(tmp_path / "profile")
    url = (folder / "index.html").as_uri()
    dom = subprocess.run(
        [_chromium(), *CHROMIUM_FLAGS, profile, "--dump-dom", url],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    shot = tmp_path / "page.png"
    subprocess.run(
        [_chromium(), *CHROMIUM_FLAGS, profile, f"--screenshot={shot}", url],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert shot.read_bytes()[:4] == b"\x89PNG"

    class Points(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.points: dict[str, list[tuple[str, float]]] = {}
            self.cells: list[tuple[str, str]] = []
            self._cell: str | None = None

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "circle" and "data-series" in attrs:
                self.points.setdefault(attrs["data-series"], []).append(
                    (attrs["data-month"], float(attrs["data-value"]))
                )
            if tag == "td" and "data-column" in attrs:
                self._cell = attrs["data-column"]
                self.cells.append((self._cell, ""))

        def handle_data(self, data):
            if self._cell is not None:
                column, text = self.cells[-1]
                self.cells[-1] = (column, text + data)

        def handle_endtag(self, tag):
            if tag == "td":
                self._cell = None

    page = Points()
    page.feed(dom)
    every_month = (
        "batch_size",
        "share_drifted",
        "prediction_psi",
        "champion_version_after",
    )
    for series in every_month:
        assert len(page.points[series]) == 3, series
    drawn = 0
    for series, points in page.points.items():
        for month, value in points:
            expected = history.loc[history["month"] == month, series].item()
            assert value == pytest.approx(float(expected), rel=1e-12), (series, month)
            drawn += 1
    # every known value of a charted series is drawn, and none that is not known
    charted = [column for _, columns in CHARTS for column in columns]
    assert drawn == int(history[charted].notna().sum().sum())
    # the table shows the batch sizes the history holds, month by month
    sizes = [text for column, text in page.cells if column == "batch_size"]
    assert sizes == [str(n) for n in history["batch_size"]]
