"""Real servers for tests: started on a free 127.0.0.1 port, always stopped (process group)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@contextlib.contextmanager
def running(
    command: list[str],
    ready_url: str,
    log: Path,
    env: dict | None = None,
    timeout: float = 120,
    cwd: Path | None = None,
) -> Iterator[None]:
    """Run ``command`` in its own process group until the block ends; wait for ``ready_url``."""
    with log.open("w") as out:
        process = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
            cwd=cwd,
        )
        try:
            deadline = time.monotonic() + timeout
            while not _ready(ready_url):
                if process.poll() is not None:
                    raise RuntimeError(
                        f"{command[0]} exited with {process.returncode}:\n{log.read_text()[-3000:]}"
                    )
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"{ready_url} not ready after {timeout} s:\n{log.read_text()[-3000:]}"
                    )
                time.sleep(0.3)
            yield
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def model_server(model_uri: str, port: int, log: Path, env: dict | None = None):
    """``mlflow models serve`` for ``model_uri`` on 127.0.0.1:``port``, in the local environment.

    The venv's ``bin`` goes first on PATH: the server starts ``uvicorn`` by name.
    """
    import sys

    bin_dir = Path(sys.executable).parent
    command = [
        str(bin_dir / "mlflow"),
        "models",
        "serve",
        "-m",
        model_uri,
        "--env-manager",
        "local",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    path = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    return running(
        command, f"http://127.0.0.1:{port}/ping", log, env={**path, **(env or {})}
    )
