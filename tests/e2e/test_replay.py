"""``kedro replay`` end to end: the loop closes on a game whose world changes."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from kedro.framework.startup import bootstrap_project

from kedro_ml.cli import cli
from kedro_ml.core.params import ParameterError, validate_parameters
from kedro_ml.core.replay import month_windows
from tests.conftest import (
    _copy_project,
    kedro_process,
    project_parameters,
    run_command,
    run_kedro,
)
from tests.readme_blocks import block_starting, normalized

ENV = "drift_demo_env"
FIRST, LAST = "2016-05-01", "2017-12-01"  # 20 months of a 2015-2017 game
INJECTED = pd.Timestamp("2016-10-01")  # the sixth month replayed


def _months_after(month: str, start: pd.Timestamp) -> int:
    m = pd.Timestamp(month)
    return (m.year - start.year) * 12 + m.month - start.month


@pytest.fixture(scope="module")
def demo_project(tmp_path_factory) -> Iterator[Path]:
    """A copy of the project with the demo game generated, with and without its drift."""
    project = _copy_project(tmp_path_factory.mktemp("replay") / "project")
    off = project / "conf" / "drift_off_env"
    shutil.copytree(project / "conf" / ENV, off)
    (off / "globals.yml").write_text(
        yaml.safe_dump({"game": "drift_off", "data_root": "data/drift_off"})
    )
    synth = yaml.safe_load((off / "parameters_synthesize.yml").read_text())
    synth["synthesize"]["drift"]["enabled"] = False  # same seed, same economy
    (off / "parameters_synthesize.yml").write_text(yaml.safe_dump(synth))
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(project)
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{project / 'mlflow.db'}")
        for env in (ENV, "drift_off_env"):
            run_kedro(project, "sub_churn_synthesize", env=env)
        yield project


def _replay(project: Path, env: str) -> tuple[dict, str]:
    """``kedro replay`` as a user runs it: its whole output, as printed."""
    result = kedro_process(
        project, "replay", f"--env={env}", "--from", FIRST, "--to", LAST, timeout=1200
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    game = yaml.safe_load((project / "conf" / env / "globals.yml").read_text())
    path = project / game["data_root"] / "08_reporting" / "replay" / "timeline.json"
    return json.loads(path.read_text()), output


@pytest.fixture(scope="module")
def drifted(demo_project) -> tuple[dict, str]:
    return _replay(demo_project, ENV)


@pytest.mark.slow
def test_monitoring_notices_retraining_follows_and_quality_comes_back(drifted):
    timeline, output = drifted
    months = timeline["months"]
    assert len(months) == 20
    assert [m["month"] for m in months][5] == f"{INJECTED:%Y-%m-%d}"
    assert timeline["drift_from"] == f"{INJECTED:%Y-%m-%d}"
    # progress per month, and a closing line
    assert "Replayed 20 months" in output
    # one line per month, the months' own Kedro runs quiet: the whole output is short
    lines = output.strip().splitlines()
    assert len(lines) <= 40, output
    month_lines = [line for line in lines if line.startswith("month ")]
    assert len(month_lines) == 20
    assert month_lines[5].startswith("month 6/20 2016-10: predicted ")
    assert (
        "retrained, not promoted" in month_lines[5]
        or "retrained, promoted" in (month_lines[5])
    )
    assert "[1/" not in output and "Run finished" not in output
    # the README's lines, values included
    readme = block_starting("month 1/20 2016-05").splitlines()
    for line in readme:
        if line != "...":
            assert normalized(line) in normalized(output), line
    assert normalized(lines[-1]) == normalized(readme[-1])
    for entry in months:
        for key in ("champion_version", "batch_size", "share_drifted", "retrained"):
            assert key in entry, key
        assert entry["batch_size"] > 300

    before = [m for m in months if pd.Timestamp(m["month"]) < INJECTED]
    assert not any(m["retrain_recommended"] for m in before)
    assert not any(m["retrained"] or m["promoted"] for m in before)

    retrained = [m for m in months if m["retrained"]]
    assert retrained, "drift was never acted upon"
    assert 0 <= _months_after(retrained[0]["month"], INJECTED) <= 2
    assert all(m["retrain_recommended"] for m in retrained)

    # every decision states its test: interval width, power, the rows it stood on
    for entry in retrained:
        test = entry["promotion_test"]
        assert 0 < test["interval_width"] < 0.2
        assert 0 < test["power"] < 1 and test["effect_of_interest"] == 0.02
        assert test["detectable_gain"] > test["min_gain"] > 0
        assert test["represented_share"] >= 0.85
        assert test["n_rows"] < test["window_rows"]  # the unsettled rows left out
        assert set(test["unrepresented_terms"]) == {"6"}  # six-month terms: not yet

    promoted = [m for m in months if m["promoted"]]
    assert promoted, "no retrained model was ever promoted"
    first = promoted[0]
    assert 0 <= _months_after(first["month"], INJECTED) <= 6

    # batches are predicted at the start of a month: the promoted model predicts
    # from the month after its promotion
    old = next(m for m in months if m["month"] == f"{INJECTED:%Y-%m-%d}")[
        "champion_model_id"
    ]
    after = months[months.index(first) + 1]
    new = after["champion_model_id"]
    assert new != old and after["champion_version"] == first["champion_version_after"]

    def pooled(model_id: str, since: pd.Timestamp) -> tuple[float, int]:
        scored = [
            timeline["batches"][m["month"]]
            for m in months
            if m["champion_model_id"] == model_id
            and pd.Timestamp(m["month"]) >= since
            and m["month"] in timeline["batches"]
        ]
        n = sum(s["n_scored"] for s in scored)
        return sum(s["roc_auc"] * s["n_scored"] for s in scored) / max(n, 1), n

    old_auc, old_n = pooled(old, INJECTED)
    new_auc, new_n = pooled(new, pd.Timestamp(after["month"]))
    assert old_n > 1000 and new_n > 300, (old_n, new_n)
    assert new_auc > old_auc, (new_auc, old_auc)
    # every scored batch says how many rows it left out, and has its oracle
    for score in timeline["batches"].values():
        assert score["n_unsettled_excluded"] >= 0
        assert score["oracle_roc_auc"] is not None


@pytest.mark.slow
def test_the_timeline_is_written_and_logged_to_one_parent_run(demo_project, drifted):
    timeline, _ = drifted
    reporting = demo_project / "data" / "drift_demo" / "08_reporting" / "replay"
    assert (reporting / "timeline.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    client = mlflow.MlflowClient()
    parent = client.get_run(timeline["mlflow_run_id"])
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["pipeline"] == "replay"
    artifacts = {a.path for a in client.list_artifacts(parent.info.run_id, "replay")}
    assert artifacts == {"replay/timeline.json", "replay/timeline.png"}
    children = client.search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'",
    )
    assert sorted(r.data.tags["replay.month"] for r in children) == [
        m["month"] for m in timeline["months"]
    ]
    # a month's stages are its children, as `kedro operate` and Airflow run them,
    # and the Kedro runs of a stage are that stage's children
    month = next(m for m in timeline["months"] if m["retrained"])
    stages = client.search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{month['mlflow_run_id']}'",
    )
    by_stage = {r.data.tags["kedro_ml.stage"]: r.info.run_id for r in stages}
    assert sorted(by_stage) == ["history", "predict", "refresh", "retrain", "score"]
    kedro_runs = {
        stage: client.search_runs(
            [parent.info.experiment_id], filter_string=f"tags.triggered_by = '{run}'"
        )
        for stage, run in by_stage.items()
    }
    # predict: the month's features, batch and drift; retrain: train, score, promote;
    # refresh: the online store; score and history need no Kedro run
    assert {stage: len(runs) for stage, runs in kedro_runs.items()} == {
        "predict": 1,
        "score": 0,
        "retrain": 1,
        "refresh": 1,
        "history": 0,
    }
    history = client.get_metric_history(parent.info.run_id, "replay.share_drifted")
    assert len(history) == 20
    # the replay has its own registered model: the game's champion never moved
    replay_versions = client.search_model_versions("name='sub_churn_drift_demo_replay'")
    assert len(replay_versions) == 1 + sum(m["retrained"] for m in timeline["months"])
    assert client.search_model_versions("name='sub_churn_drift_demo'") == []


@pytest.mark.slow
def test_every_snapshot_is_what_an_export_at_the_close_of_its_month_holds(
    demo_project, drifted
):
    """Each month's snapshot against a cut made independently from the demo's CSV text."""
    from tests.replay_cut import FILES, cut, same_as_cut

    timeline, _ = drifted
    raw = demo_project / "data" / "drift_demo" / "01_raw"
    for month in timeline["months"]:
        expected = cut(raw, month["month"])
        assert month["snapshot_rows"] == {n: len(rows) for n, rows in expected.items()}
        # characters created during the month are in it (their subscriptions are)
        first = month["month"]
        assert any(row["creation_date"] >= first for row in expected["characters"])
    # the work folder holds the last month's snapshot, row for row
    work = demo_project / "data" / "drift_demo" / "replay" / "work" / "01_raw"
    assert set(FILES.values()) <= {p.name for p in work.iterdir()}
    assert same_as_cut(work, cut(raw, LAST)) == []


def test_a_replay_of_a_model_reading_lifetime_totals_is_refused(project_copy):
    from kedro.framework.startup import bootstrap_project

    (project_copy / "conf" / "local" / "parameters_leaky.yml").write_text(
        yaml.safe_dump({"model": {"accept_leaky_features": ["kd_ratio"]}})
    )
    result = CliRunner().invoke(
        cli,
        ["replay", "--from", "2017-06-01", "--to", "2017-06-01"],
        obj=bootstrap_project(project_copy),
    )
    assert result.exit_code == 1, result.output
    assert "Error: kedro replay:" in result.output
    assert "lifetime totals" in result.output and "kd_ratio" in result.output
    assert not (project_copy / "data" / "replay").exists()


@pytest.mark.slow
def test_without_drift_nothing_is_retrained(demo_project):
    timeline, _ = _replay(demo_project, "drift_off_env")
    assert timeline["drift_from"] is None
    assert len(timeline["months"]) == 20
    assert not any(m["retrain_recommended"] for m in timeline["months"])
    assert not any(m["retrained"] or m["promoted"] for m in timeline["months"])
    versions = {m["champion_version"] for m in timeline["months"]}
    assert versions == {timeline["initial_champion"]["version"]} == {"1"}


@pytest.mark.slow
def test_a_second_replay_starts_from_no_champion(project_copy):
    """Each replay trains its own first model: an earlier replay's champion knew the future."""
    for _ in range(2):
        run_command(
            project_copy, "replay", "--from", "2017-06-01", "--to", "2017-06-01"
        )
        timeline = json.loads(
            (
                project_copy / "data" / "08_reporting" / "replay" / "timeline.json"
            ).read_text()
        )
        assert timeline["initial_champion"]["version"] == "1"
        assert timeline["months"][0]["champion_version"] == "1"
    client = mlflow.MlflowClient()
    assert client.search_model_versions("name='sub_churn_game1'") == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2016-05-15", "--to", "2016-06-01"], "2016-05-15 is not a month"),
        (["--from", "2016-06-01", "--to", "2016-05-01"], "comes before --from"),
        (["--from", "2016-06", "--to", "2016-07-01"], "'2016-06' does not match"),
        (["--to", "2016-07-01"], "Missing option '--from'"),
    ],
)
def test_bad_months_are_refused_before_anything_runs(args, message):
    from tests.conftest import PROJECT_ROOT

    result = CliRunner().invoke(
        cli, ["replay", *args], obj=bootstrap_project(PROJECT_ROOT)
    )
    assert result.exit_code == 2
    assert message in result.output


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--from", "2017-12-01", "--to", "2018-01-01"],
            "Give months up to 2017-12-01",
        ),
        (
            ["--from", "2015-01-01", "--to", "2015-02-01"],
            "leaves nothing to learn from",
        ),
    ],
)
def test_months_the_data_cannot_replay_are_refused_before_anything_is_written(
    project_copy, args, message
):
    from kedro.framework.startup import bootstrap_project

    result = CliRunner().invoke(
        cli, ["replay", *args], obj=bootstrap_project(project_copy)
    )
    assert result.exit_code == 1
    assert message in result.output
    assert "Error: kedro replay:" in result.output
    assert not (project_copy / "data" / "replay").exists()
    assert not (project_copy / "data" / "08_reporting" / "replay").exists()


def test_replay_parameters_are_checked_naming_the_key():
    params = project_parameters()
    validate_parameters(params, ["replay"])
    bad = {**params, "replay": {**params["replay"], "train_months": 0}}
    with pytest.raises(ParameterError, match="replay.train_months"):
        validate_parameters(bad, ["replay"])
    unsettled = {**params, "replay": {**params["replay"], "score_lag_months": 1}}
    with pytest.raises(ParameterError, match="replay.score_lag_months"):
        validate_parameters(unsettled, ["replay"])
    typo = {**params, "replay": {**params["replay"], "score_month": 2}}
    with pytest.raises(ParameterError, match="replay.score_month"):
        validate_parameters(typo, ["replay"])


@pytest.mark.slow
def test_a_second_replay_of_the_same_game_waits_then_says_who_holds_it(
    project_copy, monkeypatch
):
    from kedro.framework.startup import bootstrap_project

    from kedro_ml.framework.locks import LOCK_NAME, FileLock

    monkeypatch.setenv("KEDRO_ML_LOCK_TIMEOUT", "1")
    holder = FileLock(project_copy / "data" / "replay" / LOCK_NAME)
    holder.acquire("another replay", 5)
    try:
        result = CliRunner().invoke(
            cli,
            ["replay", "--from", "2017-06-01", "--to", "2017-06-01"],
            obj=bootstrap_project(project_copy),
        )
    finally:
        holder.release()
    # told as a message (LockTimeoutError): who holds the game and what to do
    assert result.exit_code == 1
    assert "is held by" in result.output and "another replay" in result.output
    assert "KEDRO_ML_LOCK_TIMEOUT" in result.output
    # the running replay's files were left alone
    assert not (project_copy / "data" / "replay" / "work").exists()
    assert not (project_copy / "data" / "08_reporting" / "replay").exists()


@pytest.mark.slow
def test_a_start_without_enough_history_warns(project_copy):
    result = run_command(
        project_copy, "replay", "--from", "2016-01-01", "--to", "2016-01-01"
    )
    assert "Warning: the first model trains on 2014-07..2015-04" in result.output
    assert "start at 2017-01-01 or later" in result.output
    # from that month on, the first training window has the six months of history
    rules = project_parameters()["replay"]
    assert (
        month_windows("2017-01-01", rules)["train"]["window"]["date_start"]
        == "2015-07-01"
    )
    assert (
        month_windows("2016-12-01", rules)["train"]["window"]["date_start"]
        == "2015-06-01"
    )
    timeline = json.loads(
        (
            project_copy / "data" / "08_reporting" / "replay" / "timeline.json"
        ).read_text()
    )
    assert timeline["status"] == "FINISHED"
    assert timeline["warnings"] and "currency history" in timeline["warnings"][0]
