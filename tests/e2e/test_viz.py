"""kedro viz: the static build lists every pipeline and renders in a real headless browser."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.servers import free_port, running

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1400,900",
    "--virtual-time-budget=15000",
]


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip(
            "Debian's chromium is not installed (.ci/run installs it: apt-get install chromium)"
        )
    return path


@pytest.fixture
def viz_build(project_copy) -> Path:
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1"}
    result = subprocess.run(
        [str(BIN / "kedro"), "viz", "build"],
        cwd=project_copy,
        env={**env, "COLUMNS": "300"},
        check=True,
        capture_output=True,
        text=True,
    )
    (project_copy / "build" / "viz_build.log").write_text(result.stdout + result.stderr)
    return project_copy / "build"


# the layers, in the order data flows through them
LAYERS = [
    "raw",
    "intermediate",
    "primary",
    "feature",
    "model_input",
    "models",
    "model_output",
    "evaluation",
    "registry",
    "batch_output",
    "reporting",
]


def test_every_pipeline_has_its_layers_and_none_is_circular(viz_build):
    log = (viz_build / "viz_build.log").read_text()
    assert "circular" not in log.lower(), log[-2000:]
    default = json.loads((viz_build / "api" / "pipelines" / "__default__").read_text())
    assert default["layers"] == LAYERS
    for path in (viz_build / "api" / "pipelines").iterdir():
        assert json.loads(path.read_text())["layers"], path.name
    # stages a user can filter by: every node of the lifecycle carries its stage's tag
    tasks = [n for n in default["nodes"] if n["type"] == "task"]
    assert all(n.get("tags") for n in tasks)
    assert {"features", "train", "score", "promote", "batch_predict"} <= {
        t["id"] for t in default["tags"]
    }


def test_build_lists_every_registered_pipeline(viz_build, project_copy):
    from kedro.framework.project import pipelines
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(project_copy)
    pipelines.set_requested(None)
    main = json.loads((viz_build / "api" / "main").read_text())
    assert {p["id"] for p in main["pipelines"]} == set(pipelines.keys())
    # every dataset declared in the catalog sits on a layer (memory datasets need none)
    declared = {
        k
        for k in yaml.safe_load((project_copy / "conf/base/catalog.yml").read_text())
        if not k.startswith("_")
    }
    data = {n["name"]: n.get("layer") for n in main["nodes"] if n["type"] == "data"}
    shown = {name for name in data if name in declared or name.endswith("_features")}
    assert len(shown) > 20
    assert all(data[name] for name in shown), {name for name in shown if not data[name]}
    assert {
        "raw",
        "intermediate",
        "primary",
        "feature",
        "models",
        "model_output",
        "reporting",
    } <= set(data.values())


def test_page_renders_the_pipeline_in_chromium(viz_build, tmp_path):
    chromium = _chromium()
    port = free_port()
    server = [
        sys.executable,
        "-m",
        "http.server",
        str(port),
        "--bind",
        "127.0.0.1",
        "--directory",
        str(viz_build),
    ]
    url = f"http://127.0.0.1:{port}/"
    screenshot = tmp_path / "viz.png"
    with running(server, url, tmp_path / "http.log"):
        profile = ["--user-data-dir=" + str(tmp_path / "profile")]
        subprocess.run(
            [chromium, *CHROMIUM_FLAGS, *profile, f"--screenshot={screenshot}", url],
            check=True,
            capture_output=True,
            timeout=120,
        )
        dom = subprocess.run(
            [chromium, *CHROMIUM_FLAGS, *profile, "--dump-dom", url],
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
    assert screenshot.read_bytes()[:4] == b"\x89PNG"
    _assert_shows_a_graph(screenshot)
    for node in (
        "validate_sub_data",
        "train_model",
        "predict_batch",
        "decide_promotion",
    ):
        assert node in dom, f"{node} is not on the rendered page"


def _assert_shows_a_graph(screenshot: Path) -> None:
    """The screenshot holds a drawn graph: many colours, not one background and a spinner."""
    from PIL import Image

    image = Image.open(screenshot).convert("RGB")
    width, height = image.size
    # the flowchart's area (kedro-viz draws it right of the sidebar)
    graph = image.crop((width // 4, height // 8, width, height))
    pixels = [tuple(p) for p in np.asarray(graph).reshape(-1, 3).tolist()]
    background = max(set(pixels[:: max(1, len(pixels) // 5000)]), key=pixels.count)
    drawn = sum(
        1
        for p in pixels
        if sum(abs(a - b) for a, b in zip(p, background, strict=True)) > 60
    )
    colours = len(set(pixels))
    assert drawn / len(pixels) > 0.01, f"only {drawn} pixels drawn on the graph area"
    assert colours > 100, f"{colours} colours: a blank or loading page"
