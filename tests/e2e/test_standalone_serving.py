"""The champion loads and predicts in a fresh virtual environment without kedro_ml.

The environment is built from the model's own ``requirements.txt`` only (with
poetry.lock's versions as constraints for what those pull in); the model
brings its code (``code_paths``), so neither ``kedro_ml`` nor Kedro is needed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from tests.conftest import PROJECT_ROOT, run_kedro

pytestmark = pytest.mark.slow

PREDICT = """
import importlib.util, json, sys
import mlflow, pandas as pd
model = mlflow.pyfunc.load_model("models:/sub_churn_game1@champion")
rows = pd.read_parquet(sys.argv[1])
answer = model.predict(rows)
import kedro_ml
print(json.dumps({
    "predictions": answer.to_dict(orient="list"),
    "kedro_ml": kedro_ml.__file__,
    "kedro": importlib.util.find_spec("kedro") is not None,
}))
"""


def _lock_constraints(path: Path) -> Path:
    lock = tomllib.loads((PROJECT_ROOT / "poetry.lock").read_text())
    path.write_text("".join(f"{p['name']}=={p['version']}\n" for p in lock["package"]))
    return path


def test_champion_predicts_in_a_fresh_environment_like_batch_prediction(
    project_copy, tmp_path
):
    run_kedro(project_copy, "__default__")
    model_dir = Path(
        mlflow.artifacts.download_artifacts("models:/sub_churn_game1@champion")
    )
    requirements = (model_dir / "requirements.txt").read_text().split()
    # every requirement is pinned, and to the lock's version
    locked = {
        p["name"]: p["version"]
        for p in tomllib.loads((PROJECT_ROOT / "poetry.lock").read_text())["package"]
    }
    pins = dict(r.split("==") for r in requirements)
    assert {"mlflow", "scikit-learn", "pandas", "skops"} <= set(pins)
    assert all(locked[name] == version for name, version in pins.items()), pins
    assert not (model_dir / "python_model.pkl").exists()  # models from code: no pickle

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
            str(model_dir / "requirements.txt"),
            "-c",
            str(_lock_constraints(tmp_path / "constraints.txt")),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert install.returncode == 0, install.stderr[-3000:]

    rows = pd.read_parquet(
        project_copy / "data" / "04_feature" / "batch_predict_features.parquet"
    )
    rows_path = tmp_path / "rows.parquet"
    rows.to_parquet(rows_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    result = subprocess.run(
        [str(python), "-c", PREDICT, str(rows_path)],
        cwd=elsewhere,
        env={**env, "MLFLOW_TRACKING_URI": os.environ["MLFLOW_TRACKING_URI"]},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["kedro"] is False  # Kedro is not installed there...
    assert (
        "/code/kedro_ml/" in answer["kedro_ml"]
    )  # ...and kedro_ml came with the model
    served = pd.DataFrame(answer["predictions"])
    folder = project_copy / "data" / "07_model_output" / "batch_predictions.parquet"
    batch = pd.read_parquet(sorted(folder.iterdir())[-1] / folder.name)
    joined = served.merge(batch, on="sub_id", suffixes=("_served", "_batch"))
    assert len(joined) == len(batch) == len(rows)
    assert (
        joined["sub_churn_pred_served"] - joined["sub_churn_pred_batch"]
    ).abs().max() < 1e-9
