"""The Spark hooks: optional, and clear when Spark cannot start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kedro_ml.hooks.spark import SparkSetupError, start_session


@pytest.mark.slow
def test_the_default_path_runs_without_pyspark(project_copy: Path) -> None:
    """``make run`` never needs the Spark extra: a run with pyspark unimportable."""
    code = (
        "import sys\n"
        "sys.modules['pyspark'] = None  # import pyspark raises ImportError\n"
        "from kedro.framework.session import KedroSession\n"
        "from kedro.framework.startup import bootstrap_project\n"
        "bootstrap_project('.')\n"
        "with KedroSession.create(project_path='.') as session:\n"
        "    session.run(pipeline_names=['sub_churn_standard_features'])\n"
        "print('ran')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=project_copy,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ran")
    assert (project_copy / "data/03_primary/sub_churn_primary.parquet").exists()


def test_without_java_the_message_says_what_to_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no java on it
    with pytest.raises(SparkSetupError, match="make spark-setup"):
        start_session({"spark.master": "local[1]"})


def test_only_environments_with_spark_yml_start_spark() -> None:
    from kedro.config import OmegaConfigLoader

    from kedro_ml.hooks.spark import spark_settings
    from kedro_ml.settings import CONFIG_LOADER_ARGS
    from tests.conftest import PROJECT_ROOT

    class Context:
        def __init__(self, env: str) -> None:
            self.config_loader = OmegaConfigLoader(
                str(PROJECT_ROOT / "conf"), env=env, **CONFIG_LOADER_ARGS
            )

    assert spark_settings(Context("game2_env")) == {}
    settings = spark_settings(Context("spark_env"))
    assert settings["spark.sql.session.timeZone"] == "UTC"
    assert settings["spark.master"].startswith("local")
