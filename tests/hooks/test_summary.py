"""The end-of-run summary and the progress lines, on hand-made catalogs."""

from __future__ import annotations

import logging

from kedro.io import DataCatalog
from kedro.pipeline import Node, Pipeline

from kedro_ml.hooks.summary import RunProgress, summary_lines

# as conf/base/catalog.yml marks them: which line of the summary a dataset feeds
KINDS = {"score_metrics": "scored", "drift_report": "drift"}


def _catalog(tmp_path, **data) -> DataCatalog:
    config = {
        name: {
            "type": "json.JSONDataset",
            "filepath": str(tmp_path / "08_reporting" / f"{name}.json"),
            "metadata": {"kedro_ml": {"summary": KINDS[name]}},
        }
        for name in data
    }
    catalog = DataCatalog.from_config(config)
    for name, value in data.items():
        catalog.save(name, value)
    return catalog


SCORE = {
    "roc_auc": 0.80915,
    "oracle_roc_auc": 0.82083,
    "pr_auc": 0.6923,
    "ece": 0.0193,
    "n_scored": 3602,
    "n_unsettled_excluded": 7,
    "n_no_term_excluded": 1,
}
DRIFT = {
    "drifted_features": ["price", "soft_balance_last", "sub_size", "age_months"],
    "features": [{}] * 74,
    "retrain_recommended": True,
}


def test_a_scoring_run_says_its_metrics_against_the_oracle_and_where_reports_are(
    tmp_path,
):
    catalog = _catalog(tmp_path, score_metrics=SCORE, drift_report=DRIFT)
    lines = summary_lines(catalog, {"score_metrics", "drift_report"}, "game1")
    text = "\n".join(lines)
    assert "ROC-AUC 0.809 (oracle 0.821)" in text
    assert "PR-AUC 0.692" in text and "calibration error 0.019" in text
    assert "3,602 rows (8 without a label left out)" in text
    assert "retraining recommended: 4 of 74 inputs drifted" in text
    # the folders it wrote, then where its runs are
    assert lines[-2] == f"wrote     {tmp_path / '08_reporting'}/ (2 outputs)"
    assert lines[-1].startswith("runs      in MLflow: ")


def test_only_what_the_run_wrote_is_summarised(tmp_path):
    catalog = _catalog(tmp_path, score_metrics=SCORE)
    # score_metrics exists on disk from an earlier run, but this run did not write it
    assert summary_lines(catalog, {"something_else"}, "game1") == []


def test_an_unreadable_report_leaves_its_line_out(tmp_path):
    catalog = _catalog(tmp_path, score_metrics=SCORE)
    (tmp_path / "08_reporting" / "score_metrics.json").write_text("{not json")
    assert not any(
        "ROC-AUC" in line for line in summary_lines(catalog, {"score_metrics"}, "g")
    )


def test_progress_counts_the_nodes(caplog):
    pipeline = Pipeline(
        [
            Node(lambda: 1, None, "a", name="first"),
            Node(lambda a: a, "a", "b", name="second"),
        ]
    )
    progress = RunProgress()
    progress.before_pipeline_run(pipeline)
    with caplog.at_level(logging.INFO, logger="kedro_ml.run"):
        for node in pipeline.nodes:
            progress.before_node_run(node)
    assert [r.getMessage() for r in caplog.records] == ["[1/2] first", "[2/2] second"]


def test_a_node_shows_when_its_inputs_begin_to_load(caplog):
    pipeline = Pipeline(
        [
            Node(lambda: 1, None, "a", name="first"),
            Node(lambda a, b: a, ["a", "params:x"], "c", name="second"),
        ]
    )
    progress = RunProgress()
    progress.before_pipeline_run(pipeline)
    first, second = pipeline.nodes
    with caplog.at_level(logging.INFO, logger="kedro_ml.run"):
        progress.before_node_run(first)  # no inputs: shown as it runs
        progress.before_dataset_loaded(second)
        assert [r.getMessage() for r in caplog.records][-1] == "[2/2] second"
        progress.before_dataset_loaded(second)
        progress.before_node_run(second)
    assert [r.getMessage() for r in caplog.records] == ["[1/2] first", "[2/2] second"]


def test_memory_datasets_have_no_folder(tmp_path):
    catalog = DataCatalog.from_config(
        {
            "score_metrics": {
                "type": "MemoryDataset",
                "metadata": {"kedro_ml": {"summary": "scored"}},
            }
        }
    )
    catalog.save("score_metrics", SCORE)
    lines = summary_lines(catalog, {"score_metrics"}, "game1")
    assert any("ROC-AUC" in line for line in lines)
    assert not any(line.startswith("wrote") for line in lines)


def test_a_dataset_without_a_summary_kind_is_not_summarised(tmp_path):
    catalog = DataCatalog.from_config(
        {
            "score_metrics": {
                "type": "json.JSONDataset",
                "filepath": str(tmp_path / "m.json"),
            }
        }
    )
    catalog.save("score_metrics", SCORE)
    # only the folder it wrote: no line of a summary kind
    assert summary_lines(catalog, {"score_metrics"}, "game1") == [
        f"wrote     {tmp_path}/ (1 output)"
    ]


def test_the_folders_written_are_shown_from_the_working_folder(tmp_path, monkeypatch):
    catalog = _catalog(tmp_path, score_metrics=SCORE)
    monkeypatch.chdir(tmp_path)
    lines = summary_lines(catalog, {"score_metrics"}, "game1")
    assert "wrote     08_reporting/ (1 output)" in lines


def test_suggestions_fit_where_the_run_is(tmp_path, monkeypatch):
    from kedro_ml.hooks.summary import _serve_command, _ui_command

    monkeypatch.chdir(tmp_path)  # a folder without the project's Makefile
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    assert _ui_command().startswith("mlflow ui --backend-store-uri sqlite:///")
    assert _serve_command().startswith("python -m kedro_ml.serving.app")
    (tmp_path / "Makefile").write_text("all:\n")
    assert (_ui_command(), _serve_command()) == ("make mlflow-ui", "make serve")


def test_every_summary_kind_in_the_catalog_has_a_line():
    import yaml

    from kedro_ml.hooks.summary import _LINES
    from tests.conftest import PROJECT_ROOT

    catalog = yaml.safe_load(
        (PROJECT_ROOT / "conf" / "base" / "catalog.yml").read_text()
    )
    kinds = {
        ((entry.get("metadata") or {}).get("kedro_ml") or {}).get("summary")
        for entry in catalog.values()
        if isinstance(entry, dict)
    } - {None}
    assert kinds == {*_LINES, "online"}


def test_batch_prediction_says_how_many_when_and_by_which_model(tmp_path):
    import pandas as pd

    catalog = DataCatalog.from_config(
        {
            "batch_predictions": {
                "type": "kedro_ml.datasets.atomic.ParquetDataset",
                "filepath": str(tmp_path / "07_model_output" / "b.parquet"),
                "metadata": {"kedro_ml": {"summary": "predicted"}},
            }
        }
    )
    catalog.save(
        "batch_predictions",
        pd.DataFrame(
            {
                "sub_id": [1, 2, 3],
                "sub_start_date": pd.to_datetime(
                    ["2017-05-01", "2017-05-01", "2017-06-01"]
                ),
                "sub_churn_pred": [0.1, 0.2, 0.3],
                "model_id": ["abc"] * 3,
                "model_source": ["models:/sub_churn_game1@champion (version 2)"] * 3,
            }
        ),
    )
    lines = summary_lines(catalog, {"batch_predictions"}, "game1")
    assert lines[0] == (
        "predicted 3 subscriptions starting 2017-05..2017-06 with model abc "
        "(models:/sub_churn_game1@champion (version 2))"
    )
