"""The kedro_ml wheel: installed in a fresh virtual environment, used outside the project."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.slow

USE_THE_WHEEL = """
import numpy as np, pandas as pd
import kedro_ml, kedro_ml.pipelines
from kedro_ml.pipelines import sub_churn_train, sub_churn_batch_predict
from kedro_ml.core.features import currency_features
from kedro_ml.core.model import build_model, predict_proba

assert kedro_ml.__file__.startswith(sys.argv[1]), kedro_ml.__file__  # the wheel, not the source tree
assert sub_churn_train.create_pipeline().nodes and sub_churn_batch_predict.create_pipeline().nodes
subs = pd.DataFrame({"sub_id": [1], "char_id": [7], "sub_start_date": pd.to_datetime(["2017-04-01"])})
currency = pd.DataFrame({"char_id": [7, 7, 7], "date": pd.to_datetime(["2017-01-01", "2017-02-01", "2017-03-01"]),
                         "hard_balance": [1.0, 2.0, 3.0], "soft_balance": [10.0, 20.0, 30.0], "sub_hard": 0.0, "sub_soft": 0.0})
features = currency_features(subs, currency, [3])
assert features.loc[0, "soft_balance_mean_3m"] == 20.0
x = pd.DataFrame({"a": np.arange(20.0), "b": np.r_[np.zeros(10), np.ones(10)]})
config = {"features": {"numeric": ["a"]}, "estimator": {"type": "sklearn.linear_model.LogisticRegression"}}
model = build_model(config, list(x.columns)).fit(x, x["b"])
assert predict_proba(model, x.head(3)).shape == (3,)
print("wheel ok")
"""


def _locked_constraints(path: Path) -> Path:
    """poetry.lock's versions as a pip constraints file, so pip installs what the lock says."""
    lock = tomllib.loads((PROJECT_ROOT / "poetry.lock").read_text())
    path.write_text("".join(f"{p['name']}=={p['version']}\n" for p in lock["package"]))
    return path


def test_make_wheel_holds_the_package_only():
    # files git does not track, left in the package's folder: never in the wheel
    planted = [
        PROJECT_ROOT / "src" / "kedro_ml" / "credentials.yml",
        PROJECT_ROOT / "src" / "kedro_ml" / "core" / "stray_module_planted_by_test.py",
    ]
    try:
        for path in planted:
            path.write_text("password: planted\n")
        subprocess.run(
            ["make", "wheel"], cwd=PROJECT_ROOT, check=True, capture_output=True
        )
    finally:
        for path in planted:
            path.unlink(missing_ok=True)
    (wheel,) = (PROJECT_ROOT / "dist").glob("kedro_ml-*-py3-none-any.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert not [n for n in names if "credentials" in n or "planted" in n]
    tracked = subprocess.run(
        ["git", "ls-files", "src/kedro_ml"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    packaged = {n for n in names if n.startswith("kedro_ml/")}
    assert packaged == {t.removeprefix("src/") for t in tracked}
    assert "kedro_ml/pipelines/sub_churn_train/pipeline.py" in names
    assert all(n.startswith(("kedro_ml/", "kedro_ml-")) for n in names), (
        "only the package goes in the wheel"
    )
    assert (PROJECT_ROOT / "dist" / "conf-kedro_ml.tar.gz").is_file()


def test_wheel_installs_and_runs_outside_the_project(tmp_path):
    if not list((PROJECT_ROOT / "dist").glob("kedro_ml-*.whl")):
        subprocess.run(
            ["make", "wheel"], cwd=PROJECT_ROOT, check=True, capture_output=True
        )
    (wheel,) = (PROJECT_ROOT / "dist").glob("kedro_ml-*-py3-none-any.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "-c",
            str(_locked_constraints(tmp_path / "constraints.txt")),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {
        "KEDRO_DISABLE_TELEMETRY": "1",
        "DO_NOT_TRACK": "1",
    }
    result = subprocess.run(
        [str(python), "-c", "import sys\n" + USE_THE_WHEEL, str(venv)],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "wheel ok" in result.stdout

    # the packaged project, with the conf tarball, in a folder that has the data
    # (as the README says: the tarball beside the data, a relative --conf-source,
    # the embedded tracking store)
    run_dir = tmp_path / "run"
    shutil.copytree(PROJECT_ROOT / "data" / "01_raw", run_dir / "data" / "01_raw")
    shutil.copy(PROJECT_ROOT / "dist" / "conf-kedro_ml.tar.gz", run_dir)
    env.pop("MLFLOW_TRACKING_URI", None)
    result = subprocess.run(
        [
            str(python),
            "-m",
            "kedro_ml",
            "--conf-source=conf-kedro_ml.tar.gz",
            "--pipelines=sub_churn_train_from_raw",
        ],
        cwd=run_dir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert list(
        (run_dir / "data" / "06_models" / "sub_churn_model.skops").glob(
            "*/sub_churn_model.skops"
        )
    )
    assert (run_dir / "data" / "08_reporting" / "in_sample_score_report.txt").is_file()
    assert (run_dir / "mlflow.db").is_file()
    # as quiet as the project: its logging configuration (from the archive), no
    # terminal escapes into a file, and suggestions that work without a Makefile
    output = result.stdout + result.stderr
    assert "\x1b[" not in output
    assert "Loading data" not in output and "Warning" not in output, output
    assert len(output.splitlines()) <= 40, output
    assert "runs      in MLflow: mlflow ui --backend-store-uri sqlite:///" in output
    assert "make " not in output


def test_the_configuration_archive_holds_tracked_configuration_only(tmp_path):
    """Credentials never leave: not conf/local, not a credentials file even if tracked."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(PROJECT_ROOT), str(clone)], check=True)
    secrets = {
        "conf/base/credentials.yml": "db: {password: hunter2}\n",
        "conf/game2_env/credentials_prod.yml": "token: abc\n",
        "conf/local/parameters.yml": "train: {seed: 1}\n",
    }
    for name, text in secrets.items():
        (clone / name).write_text(text)
    subprocess.run(["git", "add", "-f", *secrets], cwd=clone, check=True)
    (clone / "conf" / "base" / "untracked.yml").write_text("x: 1\n")
    subprocess.run(
        ["make", "--no-print-directory", "conf-archive"],
        cwd=clone,
        check=True,
        capture_output=True,
    )
    with tarfile.open(clone / "dist" / "conf-kedro_ml.tar.gz") as archive:
        names = set(archive.getnames())
    assert "conf/base/catalog.yml" in names and "conf/local/.gitkeep" in names
    assert not names & set(secrets)
    assert "conf/base/untracked.yml" not in names
    assert not any("credentials" in name for name in names)
