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
from kedro_ml.datasets.mlflow_models import log_churn_model
from kedro_ml.serving.inputs import model_input_example
from tests.servers import free_port, running

pytestmark = pytest.mark.slow


def _rows(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "sub_id": np.arange(1, n + 1),
            "price": rng.uniform(1, 20, n).round(2),
            "sub_type": rng.choice(["hard", "soft"], n),
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
    records = json.dumps({"dataframe_records": rows.head(2).to_dict(orient="records")})
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
