"""The tracking store of a run: a server that is not ready stops it within seconds."""

from __future__ import annotations

import http.server
import threading
import time

import pytest

from kedro_ml.framework.store import TrackingServerError, check_tracking_server
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


def test_a_store_file_that_is_no_database_is_named_without_a_traceback(tmp_path):
    import click

    from kedro_ml.framework.store import TrackingStoreError, create_sqlite_store

    database = tmp_path / "mlflow.db"
    database.write_bytes(b"not a database" * 200)
    with pytest.raises(TrackingStoreError) as info:
        create_sqlite_store(f"sqlite:///{database}")
    assert isinstance(info.value, click.ClickException)
    message = info.value.message
    assert str(database) in message and "file is not a database" in message
    assert "move it aside" in message
    assert database.read_bytes() == b"not a database" * 200  # left as it was


def test_a_server_uri_bounds_mlflows_retries_unless_set(monkeypatch):
    import os

    from kedro_ml.framework.store import HTTP_BOUNDS, bound_http_requests

    for name in HTTP_BOUNDS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")  # the user's choice stays
    bound_http_requests()
    assert os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == "3"
    assert os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] == "30"
