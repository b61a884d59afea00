"""A replay's own copy of a game: its configuration, its raw snapshots, its outputs.

The replay works in ``<data_root>/replay/work`` with a copy of the game's
configuration whose ``game`` is ``<game>_replay``: its registered model,
experiment and files are its own, and the game's champion never moves. The
work folder is held by a lock (``<data_root>/replay/.kedro_ml.lock``) from
its creation to ``release``: one replay of a game at a time.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from kedro.framework.project import settings
from mlflow import MlflowClient

from kedro_ml.framework.locks import LOCK_NAME, FileLock, lock_timeout
from kedro_ml.orchestration.operation import Space

logger = logging.getLogger(__name__)


def copy_conf(conf_source: Path, run_env: str, work: Path, globals_: dict) -> Path:
    """A copy of the game's configuration (base and its environment) with ``globals_``."""
    conf = work / "conf"
    shutil.copytree(conf_source / "base", conf / "base")
    if (conf_source / run_env).is_dir():
        shutil.copytree(conf_source / run_env, conf / run_env)
    (conf / run_env).mkdir(parents=True, exist_ok=True)
    if (conf_source / "logging.yml").exists():
        shutil.copy(conf_source / "logging.yml", conf / "logging.yml")
    (conf / run_env / "globals.yml").write_text(yaml.safe_dump(globals_))
    return conf


class WorkFolder(Space):
    """The replay's copy of ``game`` under ``data_root``: created empty, locked, run in."""

    def __init__(
        self,
        project_path: Path,
        env: str | None,
        data_root: Path,
        conf_source: Path,
        globals_: Mapping[str, Any],
        params: Mapping[str, Any],
    ) -> None:
        self.project_path = project_path
        self.run_env = env or "local"
        self.lock = FileLock(data_root / "replay" / LOCK_NAME)
        self.lock.acquire("kedro replay", lock_timeout())
        try:
            self.path = data_root / "replay" / "work"
            shutil.rmtree(self.path, ignore_errors=True)
            (self.path / "01_raw").mkdir(parents=True)
            self.game = f"{globals_['game']}_replay"
            self.params = {**params, "game": self.game}
            self.conf = copy_conf(
                conf_source,
                self.run_env,
                self.path,
                {**globals_, "data_root": str(self.path), "game": self.game},
            )
            loader = settings.CONFIG_LOADER_CLASS(
                conf_source=str(self.conf),
                env=self.run_env,
                **settings.CONFIG_LOADER_ARGS,
            )
            self.catalog_config = loader["catalog"]
        except BaseException:
            self.lock.release()
            raise

    def fresh_experiment(self) -> str:
        """The replay's own experiment, without the registered model of an earlier replay."""
        client = MlflowClient()
        name = self.registered_model
        if client.search_registered_models(filter_string=f"name = '{name}'"):
            logger.info(
                "Replay: removing %s, the registered model of an earlier replay", name
            )
            client.delete_registered_model(name)
        return self.experiment()  # kedro-mlflow creates it

    def release(self) -> None:
        self.lock.release()

    def write_raw(self, tables: Mapping[str, pd.DataFrame]) -> None:
        """A snapshot of the raw tables, saved by the work folder's own raw datasets."""
        catalog = self.catalog()
        for name, frame in tables.items():
            catalog.save(name, frame)
