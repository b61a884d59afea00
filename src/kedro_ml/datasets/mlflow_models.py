"""The churn model in MLflow: logged by training, promoted in the registry, read as the champion.

Three datasets, one role each:

* ``MlflowModelLoggerDataset`` (save only): logs a fitted model to the active
  run as a ``ChurnModel`` pyfunc, with its own code, pinned requirements, a
  signature and an input example. Training logs each candidate once.
* ``MlflowPromotionDataset`` (save only): registers the model a training run
  logged as a new version of the registered model and, when the promotion
  decision says so, moves the ``champion`` alias, only if the champion is
  still the one the decision was made against (compare-and-set).
* ``MlflowChampionDataset`` (load only): the registered version under an
  alias, as a ``ModelVersion``.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import warnings
from importlib.metadata import version
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from kedro.io import AbstractDataset, DatasetError
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

import kedro_ml
from kedro_ml.core import persistence
from kedro_ml.core.model import ModelVersion, predict_proba
from kedro_ml.serving.model import MODEL_ARTIFACT

logger = logging.getLogger(__name__)

# What the served model imports; listing it saves MLflow from inferring it,
# which loads the model in a subprocess (seconds per model).
RUNTIME_DISTRIBUTIONS = (
    "mlflow",
    "numpy",
    "pandas",
    "scikit-learn",
    "scipy",
    "skops",
)
# The tag that links a logged model to the model it holds (``model.model_id_``).
MODEL_ID_TAG = "kedro_ml.model_id"

_PACKAGE = Path(kedro_ml.__file__).parent
_MODEL_CODE = _PACKAGE / "serving" / "model_code.py"


def pip_requirements() -> list[str]:
    """The served model's requirements, pinned to the versions installed here (the lock's)."""
    return [f"{name}=={version(name)}" for name in RUNTIME_DISTRIBUTIONS]


def _stage_code(folder: Path) -> Path:
    """A copy of the code the served model runs: ``kedro_ml`` with ``core`` and ``serving`` only."""
    package = folder / "kedro_ml"
    package.mkdir(parents=True)
    shutil.copy(_PACKAGE / "__init__.py", package / "__init__.py")
    for sub in ("core", "serving"):
        shutil.copytree(
            _PACKAGE / sub, package / sub, ignore=shutil.ignore_patterns("__pycache__")
        )
    return package


def _signature(model: Any, example: pd.DataFrame):
    from mlflow.models import infer_signature

    output = pd.DataFrame(
        {"sub_id": example["sub_id"], "sub_churn_pred": predict_proba(model, example)}
    )
    with warnings.catch_warnings():
        # the hint about integer columns concerns sub_id only, which is never missing
        warnings.filterwarnings(
            "ignore", message=".*Inferred schema contains integer column"
        )
        return infer_signature(example, output)


def log_churn_model(model: Any, input_example: pd.DataFrame, name: str = "model"):
    """Log ``model`` as a ``ChurnModel`` pyfunc in the active run; return its ``ModelInfo``."""
    with tempfile.TemporaryDirectory() as tmp:
        artifact = Path(tmp) / f"{MODEL_ARTIFACT}.skops"
        artifact.write_bytes(persistence.dumps(model))
        return mlflow.pyfunc.log_model(
            name=name,
            python_model=str(_MODEL_CODE),
            artifacts={MODEL_ARTIFACT: str(artifact)},
            code_paths=[str(_stage_code(Path(tmp) / "code"))],
            input_example=input_example,
            signature=_signature(model, input_example),
            pip_requirements=pip_requirements(),
            tags={MODEL_ID_TAG: model.model_id_},
            metadata={"model_id": model.model_id_},
        )


def _require_active_run(what: str) -> None:
    if mlflow.active_run() is None:
        raise DatasetError(
            f"{what} needs an active MLflow run: run the pipeline through `kedro run` "
            "with kedro-mlflow tracking enabled"
        )


class MlflowModelLoggerDataset(AbstractDataset):
    """Logs a fitted churn model to the active MLflow run (save only).

    ``save`` takes ``{"model": fitted Pipeline, "input_example": feature rows}``.
    """

    def __init__(self, *, artifact_path: str = "model", metadata: dict | None = None):
        self._artifact_path = artifact_path
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"artifact_path": self._artifact_path}

    def load(self) -> Any:
        raise DatasetError(
            "MlflowModelLoggerDataset only logs models; read the champion through "
            "kedro_ml.datasets.mlflow_models.MlflowChampionDataset"
        )

    def save(self, data: dict[str, Any]) -> None:
        _require_active_run("Logging the model")
        info = log_churn_model(
            data["model"], data["input_example"], self._artifact_path
        )
        logger.info("Logged model %s as %s", data["model"].model_id_, info.model_uri)


class ChampionChangedError(RuntimeError):
    """The champion moved while a run was deciding against it."""


def _alias_version(client: MlflowClient, name: str, alias: str) -> str | None:
    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


class MlflowPromotionDataset(AbstractDataset):
    """Registers a scored candidate and, when promoted, makes it the champion (save only).

    ``save`` takes ``{"model_id", "promote", "champion_version", "tags"}``:
    the candidate's ``model_id`` (the logged model carrying that tag is
    registered), whether to promote it, the champion version the decision was
    made against (None when there was none) and tags for the new version. The
    alias moves only if it still points at ``champion_version``; otherwise
    ``ChampionChangedError`` says to decide again.
    """

    def __init__(
        self,
        *,
        registered_model_name: str,
        alias: str = "champion",
        metadata: dict | None = None,
    ):
        self._name = registered_model_name
        self._alias = alias
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"registered_model_name": self._name, "alias": self._alias}

    def load(self) -> Any:
        raise DatasetError(
            "MlflowPromotionDataset only registers and promotes; read the champion "
            "through kedro_ml.datasets.mlflow_models.MlflowChampionDataset"
        )

    def _logged_model(self, model_id: str):
        experiment = mlflow.active_run().info.experiment_id
        found = mlflow.search_logged_models(
            experiment_ids=[experiment],
            filter_string=f"tags.`{MODEL_ID_TAG}` = '{model_id}'",
            order_by=[{"field_name": "creation_time", "ascending": False}],
            max_results=1,
            output_format="list",
        )
        if not found:
            raise DatasetError(
                f"No logged model holds the candidate {model_id} in this game's "
                "experiment: train it with tracking on (kedro run -p sub_churn_train) "
                "before promoting it"
            )
        return found[0]

    def save(self, data: dict[str, Any]) -> None:
        _require_active_run("Registering the candidate")
        logged = self._logged_model(data["model_id"])
        client = MlflowClient()
        registered = mlflow.register_model(
            f"models:/{logged.model_id}",
            self._name,
            tags={k: str(v) for k, v in (data.get("tags") or {}).items()},
        )
        mlflow.set_tag("registered_version", registered.version)
        logger.info("Registered %s as version %s", data["model_id"], registered.version)
        if not data["promote"]:
            return
        seen = data.get("champion_version")
        current = _alias_version(client, self._name, self._alias)
        if current != (None if seen is None else str(seen)):
            raise ChampionChangedError(
                f"The {self._alias} of {self._name} moved from version {seen} to "
                f"{current} while this run scored its candidate; version "
                f"{registered.version} is registered but not promoted. Run "
                "`kedro run -p sub_churn_promote` to decide against the new champion."
            )
        client.set_registered_model_alias(self._name, self._alias, registered.version)
        logger.info(
            "models:/%s@%s is now version %s",
            self._name,
            self._alias,
            registered.version,
        )


class MlflowChampionDataset(AbstractDataset):
    """The registered model version under an alias, as a ``ModelVersion`` (load only).

    With ``missing_ok``, ``load`` returns None while no version has the alias
    (promotion's first candidate has no champion to beat); otherwise it stops,
    naming the pipeline that makes a champion.
    """

    def __init__(
        self,
        *,
        registered_model_name: str,
        alias: str = "champion",
        missing_ok: bool = False,
        metadata: dict | None = None,
    ):
        self._name = registered_model_name
        self._alias = alias
        self._missing_ok = missing_ok
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {
            "registered_model_name": self._name,
            "alias": self._alias,
            "missing_ok": self._missing_ok,
        }

    def load(self) -> ModelVersion | None:
        current = _alias_version(MlflowClient(), self._name, self._alias)
        if current is None:
            if self._missing_ok:
                return None
            raise DatasetError(
                f"models:/{self._name}@{self._alias} does not exist yet: train, score "
                "and promote a model first (kedro run -p sub_churn_train_from_raw, "
                "then kedro run -p sub_churn_score_from_raw)"
            )
        uri = f"models:/{self._name}/{current}"
        pyfunc = mlflow.pyfunc.load_model(uri)
        return ModelVersion(
            model=pyfunc.unwrap_python_model().model,
            source=f"models:/{self._name}@{self._alias} (version {current})",
            version=current,
        )

    def save(self, data: Any) -> None:
        raise DatasetError(
            "MlflowChampionDataset is read-only: promotion moves the champion "
            "(kedro_ml.datasets.mlflow_models.MlflowPromotionDataset)"
        )

    def _exists(self) -> bool:
        if self._missing_ok:
            return True
        return _alias_version(MlflowClient(), self._name, self._alias) is not None


class MlflowTagsDataset(AbstractDataset):
    """Sets tags on the active MLflow run (save only): ``save`` takes ``{tag: value}``."""

    def __init__(self, *, metadata: dict | None = None):
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {}

    def load(self) -> Any:
        raise DatasetError("MlflowTagsDataset only sets tags on the active run")

    def save(self, data: dict[str, Any]) -> None:
        _require_active_run("Tagging the run")
        mlflow.set_tags({key: str(value) for key, value in data.items()})


class MlflowParamsDataset(AbstractDataset):
    """Logs parameters of the active MLflow run (save only): ``save`` takes ``{name: value}``.

    For values a node resolves at run time (a default date, a count), which
    kedro-mlflow's parameter logging cannot see.
    """

    def __init__(self, *, metadata: dict | None = None):
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {}

    def load(self) -> Any:
        raise DatasetError("MlflowParamsDataset only logs parameters of the active run")

    def save(self, data: dict[str, Any]) -> None:
        _require_active_run("Logging parameters")
        mlflow.log_params({key: str(value) for key, value in data.items()})
