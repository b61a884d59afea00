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

from tests.conftest import _copy_project, run_kedro
from tests.servers import free_port

pytestmark = pytest.mark.slow

KEDRO = str(Path(sys.executable).with_name("kedro"))
KEPT = ("06_models", "07_model_output", "08_reporting")


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _write(path: Path, frame: pd.DataFrame) -> None:
    frame.to_csv(path, index=False)


def _set(column: str, value: str, row: int = 1):
    def mutate(path: Path) -> None:
        frame = _read(path)
        frame.loc[row, column] = value
        _write(path, frame)

    return mutate


def _drop_column(column: str):
    return lambda path: _write(path, _read(path).drop(columns=column))


def _duplicate_first_row(path: Path) -> None:
    frame = _read(path)
    _write(path, pd.concat([frame, frame.iloc[[0]]], ignore_index=True))


def _end_before_start(path: Path, row: int = 1) -> None:
    """A run that ends the month before it starts (whatever the sample's dates)."""
    frame = _read(path)
    start = pd.Timestamp(frame.loc[row, "start_date"])
    frame.loc[row, "end_date"] = f"{start - pd.DateOffset(months=1):%Y-%m-%d}"
    _write(path, frame)


def _missing(path: Path) -> None:
    path.unlink()


def _empty(path: Path) -> None:
    path.write_text("")


def _header_only(path: Path) -> None:
    path.write_text(path.read_text().splitlines()[0] + "\n")


def _not_utf8(column: str, line: int = 3):
    """Put bytes that are not UTF-8 into ``column`` on ``line`` of the file."""

    def mutate(path: Path) -> None:
        lines = path.read_bytes().split(b"\n")
        header = lines[0].decode().split(",")
        fields = lines[line - 1].split(b",")
        fields[header.index(column)] = b"caf\xe9"
        lines[line - 1] = b",".join(fields)
        path.write_bytes(b"\n".join(lines))

    return mutate


def _extra_field(line: int = 3):
    def mutate(path: Path) -> None:
        lines = path.read_text().split("\n")
        lines[line - 1] += ",surplus"
        path.write_text("\n".join(lines))

    return mutate


CASES = {
    "character_data.csv": {
        "missing file": (_missing, ["character_data.csv"]),
        "missing column": (_drop_column("gender"), ["characters", "gender"]),
        "unparsable date": (
            _set("creation_date", "2017-13-45"),
            ["characters", "creation_date"],
        ),
        "text in a number": (
            _set("total_kills", "many"),
            ["characters", "total_kills", "number"],
        ),
        "duplicate key": (_duplicate_first_row, ["characters", "char_id", "duplicate"]),
        "negative amount": (
            _set("total_deaths", "-3"),
            ["characters", "total_deaths", ">= 0"],
        ),
        "empty file": (_empty, ["character_data.csv"]),
        "header only": (_header_only, ["character_data.csv", "no rows"]),
        "count overflows its type": (
            _set("total_kills", "1e300"),
            ["characters", "total_kills", "stored type int32"],
        ),
        "created in the future": (
            _set("creation_date", "2099-03-05"),
            ["characters", "creation_date", "after today"],
        ),
        "bytes not UTF-8": (
            _not_utf8("race"),
            ["character_data.csv", "line 3, column 'race'", "not UTF-8"],
        ),
    },
    "sub_data.csv": {
        "missing file": (_missing, ["sub_data.csv"]),
        "missing column": (_drop_column("price"), ["sub_data", "price"]),
        "unparsable date": (
            _set("sub_start_date", "junk"),
            ["sub_data", "sub_start_date"],
        ),
        "text in a number": (_set("price", "ten"), ["sub_data", "price", "number"]),
        "duplicate key": (_duplicate_first_row, ["sub_data", "sub_id", "duplicate"]),
        "orphan character": (
            _set("char_id", "99999999"),
            ["sub_data", "char_id", "character_data.csv"],
        ),
        "negative amount": (_set("price", "-1"), ["sub_data", "price", ">= 0"]),
        "empty file": (_empty, ["sub_data.csv"]),
        "header only": (_header_only, ["sub_data.csv", "no rows"]),
        "infinite price": (
            _set("price", "inf"),
            ["sub_data", "price", "finite number"],
        ),
        "price left empty": (
            _set("price", ""),
            ["sub_data", "price", "must not be empty"],
        ),
        "term overflows int32": (
            _set("sub_months", "4294967295"),
            ["sub_data", "sub_months", "stored type int32"],
        ),
        "id that would wrap around": (
            _set("char_id", "4294967298"),
            ["sub_data", "char_id", "stored type int32"],
        ),
        "whole number expected": (
            _set("sub_size", "100.5"),
            ["sub_data", "sub_size", "whole number"],
        ),
        "starts before its character": (
            _set("sub_start_date", "2005-01-01"),
            ["sub_data", "sub_start_date", "creation month", "impossible_rows: drop"],
        ),
        "starts in the future": (
            _set("sub_start_date", "2099-01-01"),
            ["sub_data", "sub_start_date", "after today"],
        ),
        "unknown sub type": (
            _set("sub_type", "gold"),
            ["sub_data", "sub_type", "one of"],
        ),
    },
    "sub_miss.csv": {
        "missing file": (_missing, ["sub_miss.csv"]),
        "missing column": (_drop_column("end_date"), ["sub_miss", "end_date"]),
        "unparsable date": (_set("start_date", "someday"), ["sub_miss", "start_date"]),
        "text in a number": (_set("sub_id", "x"), ["sub_miss", "sub_id", "number"]),
        "orphan subscription": (
            _set("sub_id", "99999999"),
            ["sub_miss", "sub_id", "sub_data.csv"],
        ),
        "end before start": (
            _end_before_start,
            ["sub_miss", "end_date", "before start_date"],
        ),
        "empty file": (_empty, ["sub_miss.csv"]),
        "header only": (_header_only, ["sub_miss.csv", "no rows"]),
        "run ending in the future": (
            _set("end_date", "2099-01-01"),
            ["sub_miss", "end_date", "after today"],
        ),
        "a row with a surplus field": (
            _extra_field(),
            ["sub_miss.csv", "line 3: 4 fields where the header has 3"],
        ),
        "month not a first day": (
            _set("start_date", "2016-05-17"),
            ["sub_miss", "start_date", "first day of a month"],
        ),
    },
    "character_currency.csv": {
        "missing file": (_missing, ["character_currency.csv"]),
        "missing column": (
            _drop_column("soft_balance"),
            ["character_currency", "soft_balance"],
        ),
        "unparsable date": (_set("date", "2016-02-30"), ["character_currency", "date"]),
        "text in a number": (
            _set("hard_balance", "lots"),
            ["character_currency", "hard_balance", "number"],
        ),
        "duplicate key": (
            _duplicate_first_row,
            ["character_currency", "char_id, date", "duplicate"],
        ),
        "orphan character": (
            _set("char_id", "99999999"),
            ["character_currency", "char_id", "character_data.csv"],
        ),
        "negative amount": (
            _set("soft_balance", "-5"),
            ["character_currency", "soft_balance", ">= 0"],
        ),
        "empty file": (_empty, ["character_currency.csv"]),
        "header only": (_header_only, ["character_currency.csv", "no rows"]),
        "balance overflows float32": (
            _set("soft_balance", "1e300"),
            ["character_currency", "soft_balance", "stored type float32"],
        ),
        "minus infinity": (
            _set("hard_balance", "-inf"),
            ["character_currency", "hard_balance", "finite number"],
        ),
        "row dated in the future": (
            _set("date", "2099-01-01"),
            ["character_currency", "date", "after today"],
        ),
    },
}
PARAMS = [(table, case) for table, cases in CASES.items() for case in cases]


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
    PARAMS,
    ids=[f"{t.removesuffix('.csv')}-{c.replace(' ', '_')}" for t, c in PARAMS],
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
    assert _digests(project) == before


def test_extra_columns_and_empty_balances_are_tolerated(project_copy):
    raw = project_copy / "data" / "01_raw"
    currency = _read(raw / "character_currency.csv")
    currency.loc[::7, "hard_balance"] = ""  # balances are nullable in the contract
    currency["note"] = "exported by tool X"  # extra columns are carried along, unused
    _write(raw / "character_currency.csv", currency)
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
    currency = _read(raw / "character_currency.csv")
    currency["sub_hard"] = ""
    currency["sub_soft"] = ""
    _write(raw / "character_currency.csv", currency)
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
    [
        (
            "model.estimators.hist_gradient_boosting.type=os.system",
            "sub_churn_train_from_raw",
            [
                "model.estimators.hist_gradient_boosting.type",
                "os.system",
                "not an allowed import path",
            ],
            True,
        ),
        (
            "model.estimator=no_such_preset",
            "sub_churn_train_from_raw",
            ["model.estimator", "no_such_preset"],
            True,
        ),
        (
            "train.window.date_start=2018-01-01",
            "sub_churn_train_from_raw",
            ["train.window", "date_start 2018-01-01 is after date_end"],
            True,
        ),
        (
            "score.thresold=0.3",
            "sub_churn_score_from_raw",
            ["score.thresold", "Extra inputs are not permitted"],
            True,
        ),
        (
            "score.window.date_start=2019-01-01,score.window.date_end=2019-03-01",
            "sub_churn_score_from_raw",
            ["score.window 2019-01-01..2019-03-01 selects no subscriptions"],
            False,
        ),
        (
            "trian.seed=3",
            "sub_churn_train_from_raw",
            ["trian: not a parameter block", "did you mean 'train'?"],
            True,
        ),
        (
            "train.seed=4294967296",
            "sub_churn_train_from_raw",
            ["train.seed", "less than or equal to 4294967295"],
            True,
        ),
        (
            "train.seed=-1",
            "sub_churn_train_from_raw",
            ["train.seed", "greater than or equal to 0"],
            True,
        ),
        (
            "train.label_as_of=2016-12-01",
            "sub_churn_train_from_raw",
            ["train.label_as_of", "not before score.window.date_start"],
            True,
        ),
        (
            "score.window.date_start=2016-11-15",
            "sub_churn_score_from_raw",
            ["score.window.date_start", "2016-11-15 is not a month"],
            True,
        ),
        (
            "features.windows_months=[0]",
            "sub_churn_train_from_raw",
            ["features.windows_months.0", "greater than or equal to 1"],
            True,
        ),
        (
            "score.threshold=1.5",
            "sub_churn_score_from_raw",
            ["score.threshold", "less than or equal to 1"],
            True,
        ),
        (
            "promotion.confidence=1",
            "sub_churn_score_from_raw",
            ["promotion.confidence", "less than 1"],
            True,
        ),
        (
            "model.accept_leaky_features=[],model.features.numeric=[kd_ratio]",
            "sub_churn_train_from_raw",
            ["model", "kd_ratio", "leak it into training"],
            True,
        ),
        (
            "model_source=cloud",
            "sub_churn_batch_predict",
            ["model_source", "must be registry or local"],
            True,
        ),
        (
            "synthesize.n_characters=0",
            "sub_churn_synthesize",
            ["synthesize.n_characters", "greater than or equal to 1"],
            True,
        ),
        (
            "model.estimators.logistic_regression.type=sklearn.datasets._kddcup99.GzipFile",
            "sub_churn_train_from_raw",
            [
                "model.estimators.logistic_regression.type",
                "gzip.GzipFile, defined outside",
            ],
            True,
        ),
    ],
    ids=[
        "estimator-not-allowed",
        "unknown-preset",
        "reversed-window",
        "unknown-key",
        "empty-window",
        "misspelt-top-level-key",
        "seed-too-large",
        "seed-negative",
        "training-labels-after-deployment",
        "window-not-a-month",
        "feature-window-zero",
        "threshold-above-one",
        "confidence-of-one",
        "leaky-feature",
        "unknown-model-source",
        "no-characters",
        "class-imported-by-sklearn",
    ],
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


def test_a_tracking_server_answering_503_fails_within_seconds(
    trained_project, tmp_path
):
    import http.server
    import threading

    class NotReady(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(503)
            self.end_headers()

        def log_message(self, *args):
            pass

    port = free_port()
    httpd = http.server.HTTPServer(("127.0.0.1", port), NotReady)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    project, before = trained_project
    uri = f"http://127.0.0.1:{port}"
    try:
        start = time.monotonic()
        code, output = _cli(
            project,
            "--pipelines=sub_churn_train_from_raw",
            env={"MLFLOW_TRACKING_URI": uri},
            timeout=120,
        )
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert time.monotonic() - start < 30
    assert code != 0 and uri in output and "HTTP 503" in output
    assert _digests(project) == before


def test_impossible_rows_can_be_dropped_and_are_counted(project_copy):
    raw = project_copy / "data" / "01_raw" / "sub_data.csv"
    subs = _read(raw)
    subs.loc[1, "sub_start_date"] = "2005-01-01"  # before any character exists
    _write(raw, subs)
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
