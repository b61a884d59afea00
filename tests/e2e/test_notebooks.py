"""Every notebook runs headless, from a temporary copy of the project, so none can rot."""

from __future__ import annotations

import json

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import PROJECT_ROOT

NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks_and_they_are_committed_without_outputs():
    assert len(NOTEBOOKS) >= 2
    for path in NOTEBOOKS:
        book = json.loads(path.read_text())
        for cell in book["cells"]:
            if cell["cell_type"] == "code":
                assert (
                    cell.get("outputs") == [] and cell.get("execution_count") is None
                ), path.name


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, project_copy, monkeypatch):
    # the embedded default store, as a user has it: no MLFLOW_TRACKING_URI
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    book = nbformat.read(project_copy / "notebooks" / path.name, as_version=4)
    NotebookClient(
        book,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(project_copy / "notebooks")}},
    ).execute()
    images = [
        o
        for c in book.cells
        if c.cell_type == "code"
        for o in c.outputs
        if "image/png" in o.get("data", {})
    ]
    assert images, "each notebook shows at least one plot"
    sources = "".join(c.source for c in book.cells if c.cell_type == "code")
    if "kedro.ipython" in sources:
        # run from notebooks/, tracked in the project root's store (the one
        # `make mlflow-ui` shows), never in a store of its own beside the notebook
        assert not (project_copy / "notebooks" / "mlflow.db").exists()
        assert not (project_copy / "notebooks" / "mlruns").exists()
        from mlflow.tracking import MlflowClient

        client = MlflowClient(f"sqlite:///{project_copy / 'mlflow.db'}")
        experiment = client.get_experiment_by_name("sub_churn_game1")
        assert experiment is not None
        assert client.search_runs([experiment.experiment_id])
    else:
        # the package alone: no file of the project is read (no paths, no YAML)
        for reader in ("Path(", "open(", "yaml", "read_csv", "catalog"):
            assert reader not in sources, reader


@pytest.mark.slow
def test_make_notebook_serves_the_notebooks(tmp_path):
    import sys
    import urllib.request
    from pathlib import Path

    from tests.servers import free_port, running

    venv = Path(sys.prefix)
    port = free_port()
    command = [
        "make",
        "--no-print-directory",
        "-C",
        str(PROJECT_ROOT),
        f"VENV={venv}",
        "-o",
        str(venv / ".installed"),
        "notebook",
        f"PORT={port}",
    ]
    url = f"http://127.0.0.1:{port}"
    with running(
        command, f"{url}/api", tmp_path / "jupyter.log", env={"HOME": str(tmp_path)}
    ):
        with urllib.request.urlopen(f"{url}/api", timeout=10) as response:
            assert "version" in json.loads(response.read())
    log = (tmp_path / "jupyter.log").read_text()
    assert "notebooks" in log
