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

import datetime as dt
import json
import logging
import os
import shutil
import tempfile
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
from kedro_ml.core.promotion import decide, paired_auc_difference
from kedro_ml.runtime import not_in_ipython
from kedro_ml.serving.inputs import ONLINE_FIELDS, TERMS
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
    "starlette",  # the lean server (kedro_ml.serving.app)
    "uvicorn",
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
    """Online requests (``char_id`` and terms) or feature rows: every column typed, none required.

    Which columns a request needs depends on its kind; the served model checks
    that itself and answers a 400 naming the missing field
    (``kedro_ml.serving.inputs``), which MLflow's schema check could not.
    """
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    def kind(column: str) -> str:
        if column in ("sub_id", "char_id"):
            return "long"
        if column == "sub_start_date":  # a date (batch rows) or an ISO string (JSON)
            return "datetime"
        if column in TERMS:  # the contract's type: JSON numbers arrive as doubles
            return {"int": "double", "float": "double"}.get(
                TERMS[column].kind, "string"
            )
        if column in example and pd.api.types.is_numeric_dtype(example[column]):
            return "double"
        return "string"

    columns = list(
        dict.fromkeys([*ONLINE_FIELDS, "sub_id", "sub_start_date", *example.columns])
    )
    inputs = Schema([ColSpec(kind(c), c, required=False) for c in columns])
    outputs = Schema(
        [
            ColSpec("long", "sub_id", required=False),
            ColSpec("long", "char_id", required=False),
            ColSpec("string", "sub_start_date", required=False),
            ColSpec("double", "sub_churn_pred"),
            ColSpec("boolean", "known_character", required=False),
        ]
    )
    return ModelSignature(inputs=inputs, outputs=outputs)


def log_churn_model(model: Any, input_example: pd.DataFrame, name: str = "model"):
    """Log ``model`` as a ``ChurnModel`` pyfunc in the active run; return its ``ModelInfo``."""
    with tempfile.TemporaryDirectory() as tmp:
        artifact = Path(tmp) / f"{MODEL_ARTIFACT}.skops"
        artifact.write_bytes(persistence.dumps(model))
        with not_in_ipython():  # MLflow's notebook probe, asked for every logged model
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
    """The champion kept moving while a run was deciding against it."""


def _alias_version(client: MlflowClient, name: str, alias: str) -> str | None:
    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def _load_version(name: str, version: str, alias: str) -> ModelVersion:
    pyfunc = mlflow.pyfunc.load_model(f"models:/{name}/{version}")
    return ModelVersion(
        model=pyfunc.unwrap_python_model().model,
        source=f"models:/{name}@{alias} (version {version})",
        version=version,
    )


def read_promotions(path: str | Path) -> list[dict]:
    """The local record of promotions, oldest first (empty when there is none)."""
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        return []


def _append_promotion(path: str | Path, entry: dict) -> None:
    """Add ``entry`` to the local record, rewriting it whole (a rename, never half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = [*read_promotions(path), entry]
    with tempfile.NamedTemporaryFile(
        "w", dir=path.parent, prefix=f".{path.name}.", suffix=".partial", delete=False
    ) as tmp:
        json.dump(record, tmp, indent=1)
    os.replace(tmp.name, path)


class MlflowPromotionDataset(AbstractDataset):
    """Registers a scored candidate and, when promoted, makes it the champion (save only).

    ``save`` takes the promotion request of ``sub_churn_promote``: the
    candidate's ``model_id`` (the logged model with that tag is registered),
    the decision, the champion version it was made against, and the scored
    rows, labels and candidate predictions with the rule, to decide again.

    The alias moves as a compare-and-set: only if it still points at the
    champion the decision saw. If another run moved it meanwhile, the new
    champion is scored on the same rows and the decision taken again (up to
    ``attempts`` times). Every promotion is also kept in a local record
    (``record_filepath``, JSON), which offline batch prediction reads.
    """

    def __init__(
        self,
        *,
        registered_model_name: str,
        record_filepath: str,
        alias: str = "champion",
        attempts: int = 3,
        metadata: dict | None = None,
    ):
        self._name = registered_model_name
        self._alias = alias
        self._record = record_filepath
        self._attempts = attempts
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {
            "registered_model_name": self._name,
            "alias": self._alias,
            "record_filepath": self._record,
        }

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

    def _decide_again(self, request: dict, champion: ModelVersion) -> tuple[bool, str]:
        comparison = paired_auc_difference(
            request["labels"],
            request["candidate_pred"],
            predict_proba(champion.model, request["rows"]),
            request["rule"]["confidence"],
        )
        return decide(
            request["candidate_roc_auc"],
            comparison,
            request["rule"]["confidence"],
            request["rule"]["min_gain"],
        )

    def save(self, data: dict[str, Any]) -> None:
        _require_active_run("Registering the candidate")
        logged = self._logged_model(data["model_id"])
        client = MlflowClient()
        registered = mlflow.register_model(
            f"models:/{logged.model_id}",
            self._name,
            tags={
                "candidate_roc_auc": str(data["candidate_roc_auc"]),
                MODEL_ID_TAG: data["model_id"],
            },
        )
        version = str(registered.version)
        mlflow.set_tag("registered_version", version)
        logger.info("Registered %s as version %s", data["model_id"], version)
        promote, reason, seen = (
            data["promote"],
            data["reason"],
            data["champion_version"],
        )
        for _ in range(self._attempts):
            if not promote:
                break
            current = _alias_version(client, self._name, self._alias)
            if current == (None if seen is None else str(seen)):
                client.set_registered_model_alias(self._name, self._alias, version)
                break
            # another run moved the champion: decide again, against that one
            logger.warning(
                "The %s moved from version %s to %s while this run decided; deciding again",
                self._alias,
                seen,
                current,
            )
            champion = _load_version(self._name, current, self._alias)
            promote, reason = self._decide_again(data, champion)
            seen = current
            mlflow.set_tag(
                "promotion.decided_again", f"against version {current}: {reason}"
            )
        else:
            raise ChampionChangedError(
                f"The {self._alias} of {self._name} kept moving while this run decided "
                f"({self._attempts} attempts); version {version} is registered, not "
                "promoted. Run `kedro run -p sub_churn_promote` again."
            )
        client.set_model_version_tag(self._name, version, "promoted", str(promote))
        if promote:
            logger.info(
                "models:/%s@%s is now version %s", self._name, self._alias, version
            )
            _append_promotion(
                self._record,
                {
                    "model_id": data["model_id"],
                    "registered_model": self._name,
                    "version": version,
                    "replaced_version": seen,
                    "reason": reason,
                    "promoted_at": dt.datetime.now(dt.UTC).isoformat(
                        timespec="seconds"
                    ),
                },
            )


class MlflowChampionDataset(AbstractDataset):
    """The champion, as a ``ModelVersion`` (load only): from the registry, or offline.

    ``source: registry`` (the default) loads the registered version under the
    alias. ``source: local`` works without the registry: the newest model the
    local record of promotions (``record_filepath``) names, loaded from the
    local model versions (``models_filepath``, a ``SkopsModelDataset``). With
    ``missing_ok``, ``load`` returns None while there is no champion
    (promotion's first candidate has none to beat); otherwise it stops,
    naming the pipelines that make one.
    """

    def __init__(
        self,
        *,
        registered_model_name: str,
        alias: str = "champion",
        source: str = "registry",
        record_filepath: str | None = None,
        models_filepath: str | None = None,
        missing_ok: bool = False,
        metadata: dict | None = None,
    ):
        if source not in ("registry", "local"):
            raise DatasetError(
                f"MlflowChampionDataset: source must be 'registry' or 'local', got '{source}'"
            )
        if source == "local" and not (record_filepath and models_filepath):
            raise DatasetError(
                "MlflowChampionDataset: source 'local' needs record_filepath and models_filepath"
            )
        self._name = registered_model_name
        self._alias = alias
        self._source = source
        self._record = record_filepath
        self._models = models_filepath
        self._missing_ok = missing_ok
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {
            "registered_model_name": self._name,
            "alias": self._alias,
            "source": self._source,
            "missing_ok": self._missing_ok,
        }

    def _missing(self, what: str) -> None:
        if self._missing_ok:
            return None
        raise DatasetError(
            f"{what} does not exist yet: train, score and promote a model first "
            "(kedro run -p sub_churn_train_from_raw, then kedro run -p "
            "sub_churn_score_from_raw)"
        )

    def _load_local(self) -> ModelVersion | None:
        from kedro.io.core import Version

        from kedro_ml.datasets.versioned import SkopsModelDataset

        promotions = read_promotions(self._record)
        if not promotions:
            return self._missing(f"A promoted model in {self._record}")
        latest = promotions[-1]
        models = SkopsModelDataset(filepath=self._models, version=Version(None, None))
        versions = [v for v, m in models.model_ids().items() if m == latest["model_id"]]
        if not versions:
            raise DatasetError(
                f"{self._record} names model {latest['model_id']} (registry version "
                f"{latest['version']}), but no local version in {self._models} holds "
                "it; use the registry (the default), or train it here"
            )
        local = SkopsModelDataset(
            filepath=self._models, version=Version(versions[0], None)
        )
        return ModelVersion(
            model=local.load(),
            source=(
                f"local {self._models}/{versions[0]} (promoted as {self._name} "
                f"version {latest['version']})"
            ),
            version=latest["version"],
        )

    def load(self) -> ModelVersion | None:
        if self._source == "local":
            return self._load_local()
        current = _alias_version(MlflowClient(), self._name, self._alias)
        if current is None:
            return self._missing(f"models:/{self._name}@{self._alias}")
        return _load_version(self._name, current, self._alias)

    def save(self, data: Any) -> None:
        raise DatasetError(
            "MlflowChampionDataset is read-only: promotion moves the champion "
            "(kedro_ml.datasets.mlflow_models.MlflowPromotionDataset)"
        )

    def _exists(self) -> bool:
        if self._missing_ok:
            return True
        if self._source == "local":
            return bool(read_promotions(self._record))
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
