"""The lean model server, for real: answers, and 400s that name the field and row."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request

import mlflow
import numpy as np
import pandas as pd
import pytest

from kedro_ml.core.model import build_model
from kedro_ml.serving.inputs import model_input_example
from kedro_ml.serving.packaging import log_churn_model
from tests.servers import free_port, running

pytestmark = pytest.mark.slow


def _rows(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "sub_id": np.arange(1, n + 1),
            "char_id": rng.integers(1, 4, n),
            "price": rng.uniform(1, 20, n).round(2),
            "sub_type": rng.choice(["hard", "soft"], n),
            "sub_months": rng.choice([1, 3, 6], n),
            "sub_size": rng.choice([100, 500], n),
            "num_hard_currency": rng.choice([0, 100], n),
            "num_soft_currency": rng.choice([0, 1000], n),
        }
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("app")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("app")
    rows = _rows()
    config = {
        "features": {"numeric": ["price"], "categorical": ["sub_type"]},
        "preprocessing": {
            "categorical": [
                {
                    "type": "sklearn.preprocessing.OneHotEncoder",
                    "kwargs": {"handle_unknown": "ignore"},
                }
            ]
        },
        "estimator": {"type": "sklearn.linear_model.LogisticRegression"},
    }
    model = build_model(config, list(rows.columns)).fit(rows, rows["price"] > 10)
    model.model_id_, model.feature_names_ = "m1", ["price", "sub_type"]
    with mlflow.start_run() as run:
        log_churn_model(model, model_input_example(model, rows))
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "kedro_ml.serving.app",
        "--model-uri",
        f"runs:/{run.info.run_id}/model",
        "--port",
        str(port),
        "--max-rows",
        "5",
    ]
    url = f"http://127.0.0.1:{port}"
    with running(
        command, f"{url}/ping", folder / "server.log", env={"MLFLOW_TRACKING_URI": uri}
    ):
        yield url, model, rows


def _post(url: str, body: bytes | str) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{url}/invocations",
        data=body.encode() if isinstance(body, str) else body,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _split(frame: pd.DataFrame) -> str:
    """Feature rows (no ``char_id``: with it, rows of terms only are online requests)."""
    frame = frame.drop(columns="char_id", errors="ignore")
    return json.dumps(
        {"dataframe_split": json.loads(frame.to_json(orient="split", index=False))}
    )


def test_it_answers_like_the_model(server):
    url, model, rows = server
    status, body = _post(url, _split(rows.head(3)))
    assert status == 200
    answer = pd.DataFrame(body["predictions"])
    assert answer["sub_id"].tolist() == [1, 2, 3]
    np.testing.assert_allclose(
        answer["sub_churn_pred"], model.predict_proba(rows.head(3))[:, 1], atol=1e-12
    )
    records = json.dumps(
        {
            "dataframe_records": rows.head(2)
            .drop(columns="char_id")
            .to_dict(orient="records")
        }
    )
    assert _post(url, records)[0] == 200


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '{"dataframe_split": {"columns": ["sub_id", "price", "sub_type"], "data": [[1, null, "hard"]]}}',
            "column 'price', row 0: must not be empty",
        ),
        (
            '{"dataframe_split": {"columns": ["sub_id", "price", "sub_type"], "data": [[1, -2, "hard"]]}}',
            "column 'price', row 0: must be >= 0",
        ),
        (
            '{"dataframe_split": {"columns": ["sub_id", "price", "sub_type"], "data": [[3.5, 2, "hard"]]}}',
            "column 'sub_id', row 0: must be a whole number",
        ),
        (
            '{"dataframe_records": [{"sub_id": 1, "price": 1}]}',
            "column 'sub_type' is missing",
        ),
        (
            '{"dataframe_split": {"columns": [], "data": []}}',
            "the request holds no rows",
        ),
        ("{}", "none of dataframe_split, dataframe_records or inputs"),
        ("not json", "the body is not JSON"),
        ("[1, 2]", "send a JSON object"),
    ],
)
def test_bad_requests_get_a_400_that_names_what_to_fix(server, body, message):
    url, _, _ = server
    status, answer = _post(url, body)
    assert status == 400, answer
    assert message in answer["message"]
    # nothing of the server's inside: no stack trace, no file path
    assert "Traceback" not in answer["message"] and ".py" not in answer["message"]


def test_a_request_over_the_row_limit_is_refused(server):
    url, _, rows = server
    status, answer = _post(url, _split(rows.head(6)))
    assert status == 400 and "more than the 5" in answer["message"]


# ---------------------------------------------------------------- online requests
def _store_tables(month_scale: float) -> dict[str, pd.DataFrame]:
    templates = pd.DataFrame(
        {
            "char_id": np.array([1, 2, 3], dtype=np.int64),
            "n_prior_subs": np.array([0, 2, 5], dtype=np.int32),
            "hard_balance_last": np.array([10.0, np.nan, 300.0]) * month_scale,
        }
    )
    newcomer = pd.DataFrame(
        {"n_prior_subs": np.array([0], dtype=np.int32), "hard_balance_last": [np.nan]}
    )
    return {"templates": templates, "newcomer": newcomer}


ONLINE = {
    "dataframe_records": [
        {
            "char_id": 2,
            "sub_type": "hard",
            "sub_months": 3,
            "sub_size": 100,
            "price": 9.99,
            "num_hard_currency": 100,
            "num_soft_currency": 0,
        },
        {
            "char_id": 404,
            "sub_type": "soft",
            "sub_months": 1,
            "sub_size": 500,
            "price": 4.99,
            "num_hard_currency": 0,
            "num_soft_currency": 5000,
        },
    ]
}


@pytest.fixture(scope="module")
def online_server(tmp_path_factory):
    """A model that reads store columns, served with a store path that is empty at first."""
    folder = tmp_path_factory.mktemp("online_app")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("online_app")
    rng = np.random.default_rng(1)
    n = 300
    rows = _rows(n).assign(
        n_prior_subs=rng.integers(0, 6, n).astype(np.int32),
        hard_balance_last=np.where(rng.random(n) < 0.2, np.nan, rng.uniform(0, 500, n)),
    )
    config = {
        "features": {
            "numeric": ["price", "n_prior_subs", "hard_balance_last"],
            "categorical": ["sub_type"],
        },
        "preprocessing": {
            "numeric": [
                {
                    "type": "sklearn.impute.SimpleImputer",
                    "kwargs": {"strategy": "median"},
                }
            ],
            "categorical": [
                {
                    "type": "sklearn.preprocessing.OneHotEncoder",
                    "kwargs": {"handle_unknown": "ignore"},
                }
            ],
        },
        "estimator": {"type": "sklearn.linear_model.LogisticRegression"},
    }
    label = (rows["price"] > 10) ^ (rows["n_prior_subs"] > 2)
    model = build_model(config, list(rows.columns)).fit(rows, label)
    model.model_id_ = "online"
    model.feature_names_ = ["price", "n_prior_subs", "hard_balance_last", "sub_type"]
    with mlflow.start_run() as run:
        log_churn_model(model, model_input_example(model, rows))
    store = folder / "store.sqlite"
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "kedro_ml.serving.app",
        "--model-uri",
        f"runs:/{run.info.run_id}/model",
        "--port",
        str(port),
        "--online-store",
        str(store),
    ]
    url = f"http://127.0.0.1:{port}"
    with running(
        command, f"{url}/ping", folder / "server.log", env={"MLFLOW_TRACKING_URI": uri}
    ):
        yield url, model, store


# what a refresh records: the game and the model it was refreshed for
STORE_META = {"game": "t", "model_id": "online", "model_source": "runs:/test"}


def _expected(model, store_tables: dict, records: list[dict]) -> np.ndarray:
    """The reference: each request's template (or the newcomer's) plus its terms."""
    templates = store_tables["templates"].set_index("char_id")
    rows = []
    for record in records:
        if record["char_id"] in templates.index:
            template = templates.loc[record["char_id"]].to_dict()
        else:
            template = store_tables["newcomer"].iloc[0].to_dict()
        rows.append({**template, **record})
    return model.predict_proba(pd.DataFrame(rows))[:, 1]


def test_online_requests_through_the_store_and_its_refresh(online_server):
    from kedro_ml.serving.store import write_store

    url, model, store = online_server
    body = json.dumps(ONLINE)
    # no store yet: 503, saying what to run
    status, answer = _post(url, body)
    assert status == 503 and "sub_churn_refresh_online_store" in answer["message"]

    write_store(store, _store_tables(1.0), {"as_of": "2018-01-01", **STORE_META})
    status, answer = _post(url, body)
    assert status == 200, answer
    got = pd.DataFrame(answer["predictions"])
    assert got["known_character"].tolist() == [True, False]
    assert got["sub_start_date"].tolist() == ["2018-01-01", "2018-01-01"]
    assert got["sub_id"].isna().all()
    np.testing.assert_allclose(
        got["sub_churn_pred"],
        _expected(model, _store_tables(1.0), ONLINE["dataframe_records"]),
        rtol=0,
        atol=1e-12,
    )
    # a request for the next month waits for the store's refresh
    later = [{**r, "sub_start_date": "2018-02-01"} for r in ONLINE["dataframe_records"]]
    status, answer = _post(url, json.dumps({"dataframe_records": later}))
    assert status == 400 and "refresh the store" in answer["message"]

    # a store refreshed for another model (after a promotion the server missed):
    # refused, naming both, and /health says the server is not ready
    write_store(
        store,
        _store_tables(3.0),
        {**STORE_META, "as_of": "2018-02-01", "model_id": "newer"},
    )
    status, answer = _post(url, json.dumps({"dataframe_records": later}))
    assert status == 503, answer
    assert "refreshed for model newer" in answer["message"]
    assert "(online)" in answer["message"]
    with pytest.raises(urllib.error.HTTPError) as health:
        urllib.request.urlopen(f"{url}/health", timeout=10)
    assert health.value.code == 503

    # refreshed under the running server: the next request reads the new month
    write_store(store, _store_tables(3.0), {"as_of": "2018-02-01", **STORE_META})
    status, answer = _post(url, json.dumps({"dataframe_records": later}))
    assert status == 200, answer
    got = pd.DataFrame(answer["predictions"])
    np.testing.assert_allclose(
        got["sub_churn_pred"],
        _expected(model, _store_tables(3.0), ONLINE["dataframe_records"]),
        rtol=0,
        atol=1e-12,
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"price": None}, "column 'price', row 0: must not be empty"),
        ({"price": "1e999"}, "column 'price', row 0: must be a finite number"),
        ({"price": "cheap"}, "column 'price', row 0: expected a number"),
        ({"sub_type": "gold"}, "column 'sub_type', row 0: must be one of"),
        ({"sub_months": 2.5}, "column 'sub_months', row 0: must be a whole number"),
        ({"char_id": 2**63}, "column 'char_id', row 0"),
        ({"colour": "red"}, "unknown field(s) ['colour']"),
    ],
)
def test_bad_online_requests_get_a_400_naming_the_field(online_server, change, message):
    url, _, store = online_server
    if not store.exists():
        from kedro_ml.serving.store import write_store

        write_store(store, _store_tables(1.0), {"as_of": "2018-01-01", **STORE_META})
    record = {**ONLINE["dataframe_records"][0], **change}
    status, answer = _post(url, json.dumps({"dataframe_records": [record]}))
    assert status == 400, answer
    assert message in answer["message"]


def test_ragged_and_malformed_bodies_get_a_400(online_server):
    url, _, _ = online_server
    for body, message in [
        ('{"dataframe_split": {"columns": ["char_id"], "data": [[1, 2]]}}', "each row"),
        ('{"dataframe_records": [1, 2]}', "each row must be a JSON object"),
        ('{"inputs": {"char_id": [1, 2], "price": [1]}}', "equal length"),
        (
            '{"dataframe_split": {"columns": ["a", "a"], "data": [[1, 2]]}}',
            "named twice",
        ),
        ('{"inputs": 3}', "a list of rows or an object of columns"),
    ]:
        status, answer = _post(url, body)
        assert status == 400 and message in answer["message"], (body, answer)
