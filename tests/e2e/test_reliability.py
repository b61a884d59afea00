"""Bad input and bad parameters stop a run with a clear message and lose nothing;
runs are reproducible; a tracking server that is down fails fast."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import yaml

from tests.bad_inputs import BAD_PARAMETERS, CASES, read_table, write_table
from tests.conftest import _copy_project, kedro_process, run_kedro
from tests.servers import free_port

pytestmark = pytest.mark.slow

KEDRO = str(Path(sys.executable).with_name("kedro"))
KEPT = ("06_models", "07_model_output", "08_reporting")


# End to end, a few of each kind: the rest are checked in process (tests/test_bad_inputs.py)
RAW_CASES = [
    ("character_data.csv", "missing file"),
    ("sub_data.csv", "starts in the future"),
    ("sub_miss.csv", "end before start"),
    ("character_currency.csv", "balance overflows float32"),
]
PARAMETER_CASES = [
    case
    for case in BAD_PARAMETERS
    if case[0]
    in ("unknown-key", "empty-window", "unknown-model-source", "estimator-not-allowed")
]


def _digests(project: Path) -> dict[str, str]:
    """What a failed run must not change: model versions, predictions, reports, the registry."""
    state = {
        str(p.relative_to(project)): hashlib.sha256(p.read_bytes()).hexdigest()
        for layer in KEPT
        for p in (project / "data" / layer).rglob("*")
        if p.is_file()
    }
    if (project / "mlflow.db").exists():
        client = mlflow.MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
        versions = client.search_model_versions("name='sub_churn_game1'")
        state["registry: versions"] = str(len(versions))
        if versions:
            champion = client.get_model_version_by_alias("sub_churn_game1", "champion")
            state["registry: champion"] = str(champion.version)
    return state


def _ran(output: str, node: str = "") -> bool:
    """Whether ``output`` shows a node (or ``node``) starting.

    The project's logging prints ``[k/n] <node>``; Kedro's own ``Running
    node: <node>`` shows where conf/logging.yml is not used.
    """
    name = re.escape(node) if node else r"\S+"
    return bool(re.search(rf"(Running node: {name}|\[\d+/\d+\] {name})", output))


def _cli(
    project: Path, *args: str, env: dict | None = None, timeout: float = 300
) -> tuple[int, str]:
    environment = {**os.environ, "COLUMNS": "240", **(env or {})}
    result = subprocess.run(
        [KEDRO, "run", *args],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return result.returncode, re.sub(r"[\s│]+", " ", result.stdout + result.stderr)


@pytest.fixture(scope="module")
def trained_project(tmp_path_factory):
    """A project copy after one full lifecycle run, with its outputs' digests."""
    project = _copy_project(tmp_path_factory.mktemp("reliability") / "project")
    old_cwd, old_uri = Path.cwd(), os.environ.get("MLFLOW_TRACKING_URI")
    os.chdir(project)
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{project / 'mlflow.db'}"
    try:
        run_kedro(project, "__default__")
    finally:
        os.chdir(old_cwd)
    yield project, _digests(project)
    if old_uri is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = old_uri


@pytest.mark.parametrize(
    ("table", "case"),
    RAW_CASES,
    ids=[f"{t.removesuffix('.csv')}-{c.replace(' ', '_')}" for t, c in RAW_CASES],
)
def test_bad_input_stops_with_a_clear_message_and_loses_nothing(
    trained_project, table, case
):
    project, before = trained_project
    raw = project / "data" / "01_raw" / table
    backup = raw.read_bytes()
    mutate, expected = CASES[table][case]
    try:
        mutate(raw)
        code, output = _cli(
            project,
            "--pipelines=sub_churn_train_from_raw",
            env={"MLFLOW_TRACKING_URI": f"sqlite:///{project / 'mlflow.db'}"},
        )
    finally:
        raw.write_bytes(backup)
    assert code != 0
    for text in expected:
        assert text in output, f"{text!r} not in the message:\n{output[-1500:]}"
    assert not _ran(output, "train_model")
    assert "Error: " in output and "Traceback" not in output
    assert _digests(project) == before


def test_a_failing_node_is_told_in_a_few_lines_and_its_traceback_on_request(
    trained_project,
):
    project, before = trained_project
    raw = project / "data" / "01_raw" / "sub_data.csv"
    backup = raw.read_bytes()
    lines = raw.read_text().splitlines(keepends=True)
    lines[2] = lines[2].replace(",19.99,", ",abc,", 1)
    outputs = {}
    try:
        raw.write_text("".join(lines))
        for flag in ("", "1"):
            result = subprocess.run(
                [KEDRO, "run", "--pipelines=sub_churn_train_from_raw"],
                cwd=project,
                env={
                    **os.environ,
                    "COLUMNS": "240",
                    "KEDRO_ML_TRACEBACK": flag,
                    "MLFLOW_TRACKING_URI": f"sqlite:///{project / 'mlflow.db'}",
                },
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            outputs[flag] = (result.returncode, result.stdout + result.stderr)
    finally:
        raw.write_bytes(backup)
    code, output = outputs[""]
    assert code == 1
    assert len(output.splitlines()) <= 12, output  # progress lines included
    assert "Error: validate_sub_data failed: sub_data.csv" in output
    assert "line 3" in output and "KEDRO_ML_TRACEBACK=1" in output
    assert "Traceback" not in output
    code, output = outputs["1"]
    assert code == 1 and "Traceback" in output and "RawDataError" in output
    assert _digests(project) == before


def test_extra_columns_and_empty_balances_are_tolerated(project_copy):
    raw = project_copy / "data" / "01_raw"
    currency = read_table(raw / "character_currency.csv")
    currency.loc[::7, "hard_balance"] = ""  # balances are nullable in the contract
    currency["note"] = "exported by tool X"  # extra columns are carried along, unused
    write_table(raw / "character_currency.csv", currency)
    run_kedro(project_copy, "sub_churn_train_from_raw")
    assert list(
        (project_copy / "data" / "06_models" / "sub_churn_model.skops").iterdir()
    )


@pytest.mark.parametrize("estimator", ["logistic_regression", "hist_gradient_boosting"])
def test_an_export_with_empty_optional_columns_trains_and_scores(
    project_copy, estimator, caplog
):
    """Real exports leave whole optional columns empty: here both delivery columns."""
    raw = project_copy / "data" / "01_raw"
    currency = read_table(raw / "character_currency.csv")
    currency["sub_hard"] = ""
    currency["sub_soft"] = ""
    write_table(raw / "character_currency.csv", currency)
    params = {"model": {"estimator": estimator}}
    with caplog.at_level("WARNING", logger="kedro_ml"):
        run_kedro(project_copy, "sub_churn_train_from_raw", params=params)
        run_kedro(project_copy, "sub_churn_score_from_raw", params=params)
    warned = [
        r.getMessage() for r in caplog.records if "empty in every" in r.getMessage()
    ]
    assert (
        warned and "sub_soft_last" in warned[0] and "soft_balance_net_3m" in warned[0]
    )
    metrics = json.loads(
        (project_copy / "data" / "08_reporting" / "score_metrics.json").read_text()
    )
    assert metrics["roc_auc"] > 0.7


@pytest.mark.parametrize(
    ("params", "pipeline", "expected", "before_first_node"),
    [case[1:] for case in PARAMETER_CASES],
    ids=[case[0] for case in PARAMETER_CASES],
)
def test_bad_parameters_name_the_key(
    trained_project, params, pipeline, expected, before_first_node
):
    project, before = trained_project
    code, output = _cli(
        project,
        f"--pipelines={pipeline}",
        f"--params={params}",
        env={"MLFLOW_TRACKING_URI": f"sqlite:///{project / 'mlflow.db'}"},
    )
    assert code != 0
    for text in expected:
        assert text in output, f"{text!r} not in the message:\n{output[-1500:]}"
    assert (not _ran(output)) == before_first_node
    if before_first_node:  # a message, not a traceback
        assert "Traceback" not in output and "most recent call" not in output
    assert _digests(project) == before


def test_config_cannot_reach_beyond_sklearn_and_nothing_is_written(project_copy):
    """A class that an sklearn module merely imports once truncated a raw file."""
    raw = project_copy / "data" / "01_raw" / "character_data.csv"
    before = raw.read_bytes()
    path = project_copy / "conf" / "base" / "parameters_model.yml"
    config = yaml.safe_load(path.read_text())
    config["model"]["estimator"] = {
        "type": "sklearn.datasets._kddcup99.GzipFile",
        "kwargs": {"filename": str(raw), "mode": "wb"},
    }
    path.write_text(yaml.safe_dump(config))
    code, output = _cli(project_copy, "--pipelines=sub_churn_train_from_raw")
    assert code != 0
    assert (
        "model.estimator.type" in output and "gzip.GzipFile, defined outside" in output
    )
    assert not _ran(output)
    assert raw.read_bytes() == before


def _train_against_server(project: Path, status_for, timeout: float):
    """``kedro run`` of training against a local HTTP server answering ``status_for(path)``.

    Returns the exit code, the output, the seconds it took and the server's URI.
    """
    import http.server
    import threading

    class Answer(http.server.BaseHTTPRequestHandler):
        def _answer(self):
            self.send_response(status_for(self.path))
            self.end_headers()

        do_GET = do_POST = _answer  # noqa: N815

        def log_message(self, *args):
            pass

    port = free_port()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Answer)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    uri = f"http://127.0.0.1:{port}"
    try:
        start = time.monotonic()
        code, output = _cli(
            project,
            "--pipelines=sub_churn_train_from_raw",
            env={"MLFLOW_TRACKING_URI": uri},
            timeout=timeout,
        )
    finally:
        httpd.shutdown()
        httpd.server_close()
    return code, output, time.monotonic() - start, uri


def test_a_tracking_server_answering_503_fails_within_seconds(trained_project):
    project, before = trained_project
    code, output, seconds, uri = _train_against_server(project, lambda path: 503, 120)
    assert seconds < 30
    assert code != 0 and uri in output and "HTTP 503" in output
    assert _digests(project) == before


def test_a_server_healthy_but_failing_its_api_stops_the_run_within_a_minute(
    trained_project,
):
    """/health answers 200, every API call 503: MLflow's own retries took minutes."""
    project, before = trained_project
    code, output, seconds, uri = _train_against_server(
        project, lambda path: 200 if path == "/health" else 503, 300
    )
    assert code != 0 and uri.removeprefix("http://") in output
    assert seconds < 60, output[-1500:]
    assert _digests(project) == before


def test_impossible_rows_can_be_dropped_and_are_counted(project_copy):
    raw = project_copy / "data" / "01_raw" / "sub_data.csv"
    subs = read_table(raw)
    subs.loc[1, "sub_start_date"] = "2005-01-01"  # before any character exists
    write_table(raw, subs)
    run_kedro(
        project_copy,
        "sub_churn_train_from_raw",
        params={"validation": {"impossible_rows": "drop"}},
    )
    client = mlflow.MlflowClient()
    (run,) = client.search_runs(
        [client.get_experiment_by_name("sub_churn_game1").experiment_id]
    )
    assert run.data.metrics["validation.impossible_subscriptions_dropped"] == 1.0
    assert "validation.sub_miss_rows_dropped" in run.data.metrics


def test_tracking_server_down_fails_fast_and_registers_nothing(trained_project):
    project, before = trained_project
    uri = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    start = time.monotonic()
    code, output = _cli(
        project,
        "--pipelines=sub_churn_train_from_raw",
        env={"MLFLOW_TRACKING_URI": uri},
        timeout=120,
    )
    assert time.monotonic() - start < 30
    assert code != 0 and uri in output and "does not answer" in output
    assert _digests(project) == before


def _latest(folder: Path) -> Path:
    return sorted(p for p in folder.iterdir() if p.is_dir())[-1] / folder.name


def test_same_seed_same_predictions_and_metrics(project_copy):
    data = project_copy / "data"
    results = []
    for _ in range(2):
        run_kedro(project_copy, "__default__")
        results.append(
            (
                json.loads((data / "08_reporting" / "score_metrics.json").read_text()),
                pd.read_parquet(
                    _latest(data / "07_model_output" / "batch_predictions.parquet")
                ),
            )
        )
    (metrics_1, predictions_1), (metrics_2, predictions_2) = results
    assert metrics_1 == metrics_2
    pd.testing.assert_frame_equal(predictions_1, predictions_2)
    # and the second run kept the first run's versions
    assert (
        len(list((data / "07_model_output" / "batch_predictions.parquet").iterdir()))
        == 2
    )
    assert len(list((data / "06_models" / "sub_churn_model.skops").iterdir())) == 2


def test_a_drawn_seed_is_recorded_and_repeats_the_run(project_copy):
    data = project_copy / "data"
    run_kedro(
        project_copy, "sub_churn_train_from_raw", params={"train": {"seed": None}}
    )
    client = mlflow.MlflowClient(os.environ["MLFLOW_TRACKING_URI"])
    experiment = client.get_experiment_by_name("sub_churn_game1")
    (run,) = client.search_runs([experiment.experiment_id])
    seed = int(run.data.tags["seed"])
    first = json.loads((data / "08_reporting" / "in_sample_metrics.json").read_text())
    run_kedro(
        project_copy, "sub_churn_train_from_raw", params={"train": {"seed": seed}}
    )
    second = json.loads((data / "08_reporting" / "in_sample_metrics.json").read_text())
    assert first == second and first["model_id"] == run.data.tags["model_id"]


def test_batch_score_loads_a_named_predictions_version(project_copy):
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    folder = project_copy / "data" / "07_model_output" / "batch_predictions.parquet"
    run_kedro(project_copy, "__default__")
    # a second batch, of other months
    run_kedro(
        project_copy,
        "sub_churn_batch_predict",
        params={
            "batch_predict": {
                "window": {"date_start": "2017-07-01", "date_end": "2017-07-01"}
            }
        },
    )
    versions = sorted(p.name for p in folder.iterdir())
    batches = [pd.read_parquet(folder / v / folder.name) for v in versions]
    assert len(versions) == 2 and len(batches[0]) != len(batches[1])
    bootstrap_project(project_copy)
    with KedroSession.create(project_path=project_copy) as session:
        session.run(
            pipeline_names=["sub_churn_batch_score"],
            load_versions={"batch_predictions": versions[0]},
        )
    report = json.loads(
        (
            project_copy / "data" / "08_reporting" / "predict_batch_score_report.json"
        ).read_text()
    )
    assert report["n_predicted"] == len(batches[0])


def test_a_misspelt_estimator_is_a_few_lines_and_a_non_zero_exit(project_copy):
    result = kedro_process(
        project_copy, "run", "--params=model.estimator=logistic_regresion"
    )
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 1
    assert len(output.splitlines()) <= 10, output
    assert "did you mean 'logistic_regression'" in output
