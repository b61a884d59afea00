"""Games as Kedro environments: game2, the `_game2` aliases, a new game by config only."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kedro_ml.hooks.checks import GameMismatchError
from tests.conftest import PROJECT_ROOT, kedro_process, project_parameters, run_kedro

ALIASES = [
    f"sub_churn_{name}_game2"
    for name in (
        "standard_features",
        "train",
        "score",
        "batch_predict",
        "batch_score",
        "train_from_raw",
        "score_from_raw",
        "batch_score_from_raw",
    )
]
# The tracking store is shared by every game; games are kept apart in it by
# experiment (sub_churn_<game>) and registered model name.
SHARED = {"mlflow.db", "mlflow.db.lock"}


def _snapshot(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file() and p.name not in SHARED and "__pycache__" not in p.parts
    }


def _changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {path for path, digest in after.items() if before.get(path) != digest}


def test_soft_merge_keeps_sibling_keys():
    base, game2 = project_parameters(), project_parameters("game2_env")
    # overridden: one nested key of a preset, one coefficient of the churn block
    assert (
        game2["model"]["estimators"]["random_forest"]["kwargs"]["n_estimators"] == 200
    )
    assert game2["synthesize"]["churn"]["price_per_unit"] == 1.8
    # kept from base: the siblings of those keys
    assert (
        game2["model"]["estimators"]["random_forest"]["kwargs"]["max_features"]
        == (base["model"]["estimators"]["random_forest"]["kwargs"]["max_features"])
    )
    assert (
        game2["synthesize"]["churn"]["noise_sd"]
        == base["synthesize"]["churn"]["noise_sd"]
    )
    assert game2["synthesize"]["first_month"] == base["synthesize"]["first_month"]
    assert game2["model"]["preprocessing"] == base["model"]["preprocessing"]
    assert game2["train"] == base["train"] and game2["score"] == base["score"]
    assert (base["game"], game2["game"]) == ("game1", "game2")


@pytest.mark.slow
def test_every_catalog_path_of_game2_is_its_own(project_copy):
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(project_copy)
    with KedroSession.create(project_path=project_copy, env="game2_env") as session:
        catalog = session.load_context().catalog
        described = {name: catalog.get(name)._describe() for name in catalog.keys()}
    paths = [str(d["filepath"]) for d in described.values() if d.get("filepath")]
    assert len(paths) > 10 and all("game2" in path for path in paths), paths


@pytest.mark.slow
def test_game2_runs_from_its_committed_sample_and_touches_only_its_files(project_copy):
    run_kedro(project_copy, "__default__")  # base game outputs to protect
    before = _snapshot(project_copy)
    run_kedro(project_copy, "sub_churn_train_from_raw_game2", env="game2_env")
    run_kedro(project_copy, "sub_churn_score_from_raw", env="game2_env")
    changed = _changed(before, _snapshot(project_copy))
    assert any(path.endswith("score_metrics.json") for path in changed)
    assert all("game2" in Path(path).parts for path in changed), changed
    assert (
        "Score report - game2"
        in (project_copy / "data/game2/08_reporting/score_report.txt").read_text()
    )


@pytest.mark.slow
def test_game2_sample_equals_a_fresh_generation(project_copy):
    raw = project_copy / "data" / "game2" / "01_raw"
    shutil.rmtree(raw)
    run_kedro(project_copy, "sub_churn_synthesize", env="game2_env")
    committed = PROJECT_ROOT / "data" / "game2" / "01_raw"
    for path in committed.glob("*.csv"):
        assert (raw / path.name).read_bytes() == path.read_bytes(), path.name


def test_aliases_are_registered_for_all_eight():
    from kedro_ml.pipeline_registry import register_pipelines

    found = register_pipelines()
    for alias in ALIASES:
        assert found[alias].nodes == found[alias.removesuffix("_game2")].nodes


@pytest.mark.slow
def test_alias_outside_its_environment_stops_before_any_node(project_copy):
    before = _snapshot(project_copy)
    with pytest.raises(GameMismatchError, match="--env=game2_env"):
        run_kedro(project_copy, "sub_churn_train_from_raw_game2")
    assert _changed(before, _snapshot(project_copy)) == set()


@pytest.mark.slow
def test_alias_outside_its_environment_fails_on_the_cli(project_copy):
    kedro = Path(sys.executable).with_name("kedro")
    result = subprocess.run(
        [str(kedro), "run", "-p", "sub_churn_train_from_raw_game2"],
        cwd=project_copy,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )
    assert result.returncode != 0
    assert "--env=game2_env" in result.stdout + result.stderr


@pytest.mark.slow
def test_a_new_game_by_config_only(project_copy):
    game3 = project_copy / "conf" / "game3_env"
    shutil.copytree(project_copy / "conf" / "game2_env", game3)
    # the README's recipe: rename, and a seed of its own
    for path in game3.iterdir():
        path.write_text(path.read_text().replace("game2", "game3"))
    synthesize = game3 / "parameters_synthesize.yml"
    synthesize.write_text(
        re.sub(r"(?m)^  seed: .*$", "  seed: 3003", synthesize.read_text())
    )
    before = _snapshot(project_copy)
    for name in (
        "sub_churn_synthesize",
        "sub_churn_train_from_raw",
        "sub_churn_score_from_raw",
        "sub_churn_batch_predict",
    ):
        run_kedro(project_copy, name, env="game3_env")
    changed = _changed(before, _snapshot(project_copy))
    assert any("01_raw" in path for path in changed) and any(
        "06_models" in path for path in changed
    )
    # data under data/game3, tracking artifacts under mlruns/game3
    assert all("game3" in Path(path).parts for path in changed), changed
    assert any(path.startswith("mlruns/game3/") for path in changed)
    assert (
        "Score report - game3"
        in (project_copy / "data/game3/08_reporting/score_report.txt").read_text()
    )
    # a game of its own, not a copy of game 2's players
    game2_raw = project_copy / "data/game2/01_raw/character_currency.csv"
    game3_raw = project_copy / "data/game3/01_raw/character_currency.csv"
    assert game3_raw.read_bytes() != game2_raw.read_bytes()


@pytest.mark.slow
def test_an_environment_that_does_not_exist_stops_the_run_naming_it(project_copy):
    import subprocess
    import sys
    from pathlib import Path

    kedro = str(Path(sys.executable).with_name("kedro"))
    result = subprocess.run(
        [kedro, "run", "--env=game3_env", "-p", "sub_churn_standard_features"],
        cwd=project_copy,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Environment 'game3_env' does not exist" in output
    assert "Traceback" not in output and len(output.strip().splitlines()) <= 10
    assert not any((project_copy / "data" / "02_intermediate").iterdir())


def _git(project: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.email=t@t", "-c", "user.name=t", *args],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


@pytest.mark.slow
def test_the_synthesize_recipe_leaves_the_committed_sample_alone(project_copy):
    """The README's recipe writes a game of its own; the sample is replaced only on purpose."""
    _git(project_copy, "init", "-q")
    _git(project_copy, "add", "-A")
    _git(project_copy, "commit", "-qm", "the clone")

    def kedro_run(*args: str):
        return kedro_process(project_copy, "run", *args, timeout=300)

    before = _snapshot(project_copy)
    recipe = kedro_run(
        "--env=sandbox_env",
        "-p",
        "sub_churn_synthesize",
        "--params=synthesize.n_characters=3000,synthesize.seed=7",
    )
    assert recipe.returncode == 0, recipe.stdout + recipe.stderr
    assert "wrote     data/sandbox/01_raw/ (5 outputs)" in recipe.stdout
    assert _git(project_copy, "status", "--porcelain") == ""
    assert (project_copy / "data/sandbox/01_raw/sub_data.csv").exists()

    # into the committed sample without the flag: stops before writing, naming it
    refused = kedro_run("-p", "sub_churn_synthesize", "--params=synthesize.seed=7")
    output = refused.stdout + refused.stderr
    assert refused.returncode == 1
    assert "synthesize.overwrite_tracked=true" in output and "data/01_raw/" in output
    assert "Traceback" not in output and len(output.strip().splitlines()) <= 6
    sample = {p: d for p, d in before.items() if p.startswith("data/01_raw/")}
    after = _snapshot(project_copy)
    assert sample and all(after[p] == d for p, d in sample.items())
    assert _git(project_copy, "status", "--porcelain") == ""
