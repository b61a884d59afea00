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
