"""The served app's edges, in process: body formats, nesting, health, what an error may say."""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from kedro_ml.serving.app import create_app, parse_request, without_paths
from kedro_ml.serving.inputs import RequestError
from kedro_ml.serving.model import STORE_ENV, ChurnModel

ROW = {"char_id": 1, "sub_type": "soft", "sub_months": 1, "sub_size": 100}


def test_a_body_with_two_input_formats_is_refused_naming_both():
    body = json.dumps({"dataframe_records": [ROW], "inputs": [ROW]}).encode()
    with pytest.raises(RequestError, match="dataframe_records and inputs"):
        parse_request(body)


def test_pathologically_nested_json_is_a_bad_request_not_a_crash():
    body = b'{"inputs": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(RequestError, match="nested too deeply"):
        parse_request(body)


def test_messages_leave_server_paths_out():
    assert (
        without_paths("cannot open /srv/game1/data/04_feature/online_store.sqlite now")
        == "cannot open <path on the server> now"
    )
    assert (
        without_paths("price: must be >= 0 (rows 2)") == "price: must be >= 0 (rows 2)"
    )


class _Answers:
    """A served model that answers every request with one prediction."""

    def answer(self, rows):
        import numpy as np

        return {"sub_churn_pred": np.array([0.5])}


def test_the_app_answers_400_for_bad_bodies_and_never_500():
    client = TestClient(create_app(_Answers()))
    deep = b'{"inputs": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    for body in (deep, b"not json", json.dumps({"inputs": [ROW], "instances": [ROW]})):
        response = client.post(
            "/invocations", content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code == 400, response.text
    ok = client.post("/invocations", json={"inputs": [ROW]})
    assert ok.status_code == 200 and ok.json() == {
        "predictions": [{"sub_churn_pred": 0.5}]
    }


def test_health_fails_while_the_online_store_is_unusable(tmp_path, monkeypatch):
    store = tmp_path / "secret-folder" / "online_store.sqlite"
    store.parent.mkdir()
    store.write_bytes(b"not a store")
    monkeypatch.setenv(STORE_ENV, str(store))
    model = ChurnModel()
    model.model, model._store, model._fits = (
        None,
        None,
        None,
    )  # as load_context leaves it
    client = TestClient(create_app(model))
    assert client.get("/ping").status_code == 200  # the process is up
    health = client.get("/health")
    assert health.status_code == 503
    assert "secret-folder" not in health.text and str(tmp_path) not in health.text
