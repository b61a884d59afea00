"""The Docker image and get_model.sh, run for real against a docker engine."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from kedro_ml.core.features import feature_table, select_window
from kedro_ml.core.persistence import load_file
from tests.conftest import PROJECT_ROOT

pytestmark = [pytest.mark.docker, pytest.mark.slow]

IMAGE = "kedro-ml:test"


@pytest.fixture(scope="module")
def docker() -> str:
    path = shutil.which("docker")
    if (
        path is None
        or subprocess.run([path, "info"], capture_output=True, check=False).returncode
        != 0
    ):
        pytest.skip(
            "no docker engine answers (README, Docker: podman works in its place)"
        )
    return path


# What the README's other steps leave in a clone, which the image must not hold:
# a replay's work folder, a generated game, a game folder not committed yet.
PLANTED = (
    "data/replay/work/01_raw/character_data.csv",
    "data/sandbox/01_raw/sub_data.csv",
    "conf/planted_env/globals.yml",
)


@pytest.fixture(scope="module")
def get_model_run(docker, tmp_path_factory):
    out = tmp_path_factory.mktemp("get_model")
    planted = [PROJECT_ROOT / path for path in PLANTED]
    made = [p for p in planted if not p.exists()]
    for path in made:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("planted by tests/e2e/test_docker.py\n")
    try:
        result = subprocess.run(
            [str(PROJECT_ROOT / "get_model.sh"), "-i", IMAGE, "-o", str(out)],
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        for path in made:
            path.unlink()
        shutil.rmtree(PROJECT_ROOT / "conf" / "planted_env", ignore_errors=True)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return out, result.stdout, result.stderr


@pytest.fixture(scope="module")
def model_from_get_model(get_model_run):
    return get_model_run[0]


def test_get_model_says_where_the_model_is_on_this_machine_without_noise(
    get_model_run,
):
    out, printed, errors = get_model_run
    output = printed + errors
    last = printed.strip().splitlines()[-3:]
    assert last[0] == "On this machine (the container is removed):"
    assert last[1].startswith(f"  model    {out}/sub_churn.skops (version ")
    assert last[2] == f"  reports  {out}/reports/"
    # GitPython's warning when git is missing (the image has no git)
    assert "Bad git executable" not in output
    assert "git executable must be specified" not in output


def test_the_image_holds_tracked_files_only(model_from_get_model):
    listed = subprocess.run(
        [
            "docker",
            "run",
            "--rm",
            "--entrypoint",
            "find",
            IMAGE,
            "/app/conf",
            "/app/data",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for path in PLANTED:
        assert f"/app/{path}" not in listed, path
    data = [p for p in listed if p.startswith("/app/data/")]
    assert not any("/replay" in p or "/sandbox" in p for p in data), data
    assert not any("planted" in p for p in listed)
    assert "/app/data/01_raw/sub_data.csv" in listed


def test_get_model_hands_back_a_model_that_predicts(
    model_from_get_model, feature_store, base_params
):
    model = load_file(model_from_get_model / "sub_churn.skops")
    rows = feature_table(
        select_window(
            feature_store["subscription_features"], base_params["train"]["window"]
        ).head(10),
        feature_store["currency_monthly"],
        base_params["features"]["windows_months"],
    )
    proba = model.predict_proba(rows)[:, 1]
    assert proba.shape == (10,) and np.all((proba >= 0) & (proba <= 1))
    assert (
        (model_from_get_model / "reports" / "in_sample_score_report.txt")
        .read_text()
        .startswith("In-sample")
    )
    # no container is left behind, whatever happened
    names = subprocess.run(
        ["docker", "ps", "-a", "--format", "{{.Names}}"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "kedro-ml-get-model" not in names.stdout


def test_the_image_is_lean_and_leaves_no_build_stage_behind(model_from_get_model):
    size = subprocess.run(
        ["docker", "image", "inspect", IMAGE, "--format", "{{.Size}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert int(size) <= 800 * 1000**2, f"the image is {int(size) / 1e6:.0f} MB"
    leftovers = subprocess.run(
        ["docker", "images", "-q", "--filter", "label=org.kedro-ml.stage=build"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert leftovers == []
    # what running pipelines needs, and nothing of development or the UI servers
    listed = subprocess.run(
        [
            "docker",
            "run",
            "--rm",
            "--entrypoint",
            "sh",
            IMAGE,
            "-c",
            "ls /app/.venv/lib/python3.11/site-packages; ls /app/.venv/bin",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert "kedro_ml" in listed and "kedro" in listed
    for absent in ("kedro_viz", "pytest", "poetry", "pip", "jupyterlab", "gcc"):
        assert absent not in listed, absent


def test_image_runs_another_game_and_rejects_unknown_pipelines(
    model_from_get_model, docker
):
    game2 = subprocess.run(
        [
            docker,
            "run",
            "--rm",
            IMAGE,
            "run",
            "--env=game2_env",
            "--pipelines=sub_churn_train_from_raw",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert game2.returncode == 0, (game2.stdout + game2.stderr)[-3000:]
    assert "game2" in game2.stdout + game2.stderr
    nope = subprocess.run(
        [docker, "run", "--rm", IMAGE, "run", "--pipelines=nope"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert nope.returncode != 0
    assert "nope" in nope.stdout + nope.stderr


def test_get_model_fails_clearly_without_docker(tmp_path):
    # a PATH with the shell tools the script uses, and no docker
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in (
        "dirname",
        "mkdir",
        "grep",
        "sed",
        "tr",
        "ls",
        "sort",
        "tail",
        "cp",
        "rm",
        "mktemp",
        "cat",
    ):
        (tools / tool).symlink_to(shutil.which(tool))
    result = subprocess.run(
        ["/bin/bash", str(PROJECT_ROOT / "get_model.sh"), "-o", str(tmp_path / "out")],
        env={"PATH": str(tools), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "docker is not installed" in result.stderr
