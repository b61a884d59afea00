"""Checks before a run: a tracking server that is not ready stops it within seconds."""

from __future__ import annotations

import http.server
import threading
import time

import pytest

from kedro_ml.hooks.checks import TrackingServerError, check_tracking_server
from tests.servers import free_port


class _Answer(http.server.BaseHTTPRequestHandler):
    status = 503

    def do_GET(self):  # noqa: N802 - http.server's name
        self.send_response(self.status)
        self.end_headers()
        self.wfile.write(b"not ready")

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    port = free_port()

    def serve(status: int):
        handler = type("Handler", (_Answer,), {"status": status})
        httpd = http.server.HTTPServer(("127.0.0.1", port), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        return httpd

    servers = []
    yield lambda status: servers.append(serve(status)) or f"http://127.0.0.1:{port}"
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize("status", [503, 502, 404, 500])
def test_a_server_answering_an_error_stops_the_run_naming_uri_and_status(
    server, status
):
    uri = server(status)
    start = time.monotonic()
    with pytest.raises(TrackingServerError) as info:
        check_tracking_server(uri)
    assert time.monotonic() - start < 10
    assert uri in str(info.value) and f"HTTP {status}" in str(info.value)


def test_a_healthy_server_passes(server):
    check_tracking_server(server(200))


def test_nothing_listening_stops_the_run(server):
    uri = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(TrackingServerError, match="does not answer"):
        check_tracking_server(uri)


def test_local_stores_are_not_probed():
    check_tracking_server("sqlite:///nowhere/mlflow.db")


# ------------------------------------------------------------ inputs that exist
def _registry():
    from kedro.pipeline import Node, Pipeline

    def step(*args):
        return 1

    features = Pipeline([Node(step, "raw", "features", name="features")])
    train = Pipeline([Node(step, "features", "model", name="train")])
    promote = Pipeline([Node(step, "model", "champion@write", name="promote")])
    predict = Pipeline(
        [
            Node(
                step,
                ["champion@read", "features", "truth"],
                "predictions",
                name="predict",
            )
        ]
    )
    return {
        "features": features,
        "train": train,
        "promote": promote,
        "predict": predict,
        "__default__": features + train + promote + predict,
    }


def _catalog(tmp_path, present: set[str]):
    from kedro.io import DataCatalog
    from kedro_datasets.pickle import PickleDataset

    from kedro_ml.datasets.arrow_csv import OptionalCSVDataset

    catalog = DataCatalog()
    for name in ("raw", "features", "model", "predictions"):
        catalog[name] = PickleDataset(filepath=str(tmp_path / f"{name}.pkl"))
        if name in present:
            catalog.save(name, 1)
    catalog["champion@read"] = PickleDataset(filepath=str(tmp_path / "champion.pkl"))
    if "champion" in present:
        catalog.save("champion@read", 1)
    catalog["truth"] = OptionalCSVDataset(
        filepath=str(tmp_path / "t.csv"), columns=["a"]
    )
    return catalog


def test_a_run_whose_inputs_are_missing_names_the_pipeline_to_run_first(tmp_path):
    from kedro_ml.hooks.checks import MissingInputError, check_inputs_exist

    registry = _registry()
    catalog = _catalog(tmp_path, {"raw"})
    with pytest.raises(MissingInputError) as info:
        check_inputs_exist(registry["predict"], catalog, {"env": "game2_env"}, registry)
    message = str(info.value.message)
    assert "champion@read (" in message and "features (" in message
    assert "truth" not in message  # optional: real exports come without it
    # the smallest pipeline that writes both from what exists: the whole lifecycle
    assert "Run `kedro run --env=game2_env` first" in message
    assert "written by `kedro run --env=game2_env --pipelines=promote`" in message


def test_the_smallest_pipeline_that_can_run_is_named(tmp_path):
    from kedro_ml.hooks.checks import MissingInputError, check_inputs_exist

    registry = _registry()
    catalog = _catalog(tmp_path, {"raw", "features", "model"})
    with pytest.raises(
        MissingInputError, match="Run `kedro run --pipelines=promote` first"
    ):
        check_inputs_exist(registry["predict"], catalog, {}, registry)
    # everything there: no complaint
    check_inputs_exist(
        registry["predict"], _catalog(tmp_path, {"features", "champion"}), {}, registry
    )
