"""``kedro operate``: one month of the loop on the game's data as they are."""

from __future__ import annotations

import json

import mlflow
import pandas as pd
import pytest
from click.testing import CliRunner
from kedro.framework.startup import bootstrap_project

from kedro_ml.cli import cli
from tests.conftest import PROJECT_ROOT, run_command

LAST = "2017-12-01"  # the committed sample's last month


def _operate(project, *args):
    return CliRunner().invoke(cli, ["operate", *args], obj=bootstrap_project(project))


@pytest.mark.slow
def test_the_last_month_of_the_sample_is_operated_stage_by_stage(project_copy):
    result = run_command(project_copy, "operate", "--month", LAST)
    assert (
        "Operated 2017-12 (predict, score, retrain, refresh, history)" in result.output
    )
    monitoring = project_copy / "data" / "08_reporting" / "monitoring"
    state = json.loads((monitoring / "months" / f"{LAST}.json").read_text())
    assert sorted(state["stages"]) == [
        "history",
        "predict",
        "refresh",
        "retrain",
        "score",
    ]
    batch = pd.read_parquet(
        project_copy / "data" / "07_model_output" / "batches" / f"{LAST}.parquet"
    )
    assert len(batch) == state["batch_size"] > 0
    assert (
        pd.to_datetime(batch["sub_start_date"]).dt.strftime("%Y-%m").eq("2017-12").all()
    )
    history = pd.read_csv(monitoring / "history.csv")
    assert list(history["month"]) == [LAST] and history.loc[0, "batch_size"] == len(
        batch
    )
    assert (monitoring / "index.html").read_text().count(
        'data-series="batch_size"'
    ) == 1
    assert (project_copy / "data" / "04_feature" / "online_store.sqlite").is_file()
    # one run for the month, a child run per stage, the history's metrics by month
    client = mlflow.MlflowClient()
    month_run = client.get_run(state["month_run"])
    assert month_run.info.status == "FINISHED"
    children = client.search_runs(
        [month_run.info.experiment_id],
        f"tags.mlflow.parentRunId = '{state['month_run']}'",
    )
    assert sorted(r.data.tags["kedro_ml.stage"] for r in children) == sorted(
        state["stages"]
    )
    history_run = json.loads((monitoring / "mlflow_run.json").read_text())["run_id"]
    steps = client.get_metric_history(history_run, "batch_size")
    assert [(m.step, m.value) for m in steps] == [(201712, float(len(batch)))]

    # a month whose data the raw files already go past is refused, nothing written
    before = (monitoring / "history.csv").read_text()
    refused = _operate(project_copy, "--month", "2017-11-01")
    assert refused.exit_code == 1
    assert (
        "rows dated after 2017-11" in refused.output and "sub_data:" in refused.output
    )
    assert (monitoring / "history.csv").read_text() == before
    # the same month again (a retried task) is operated again
    again = _operate(project_copy, "--month", LAST, "--stage", "predict")
    assert again.exit_code == 0, again.output


@pytest.mark.slow
def test_a_stage_before_its_month_was_predicted_says_what_to_run(project_copy):
    result = _operate(project_copy, "--month", LAST, "--stage", "score")
    assert result.exit_code == 1
    assert f"kedro operate --month {LAST} --stage predict" in result.output
    assert not (
        project_copy / "data" / "08_reporting" / "monitoring" / "months"
    ).exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--month", "2017-06-15"], "is not a month"),
        (["--month", "2017-06"], "does not match the format"),
        (["--month", LAST, "--stage", "deploy"], "'deploy' is not one of"),
    ],
)
def test_bad_months_and_stages_are_refused_before_anything_runs(args, message):
    result = _operate(PROJECT_ROOT, *args)
    assert result.exit_code == 2
    assert message in result.output
