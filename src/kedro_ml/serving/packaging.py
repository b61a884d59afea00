"""The churn model as MLflow logs it for serving: its code, requirements, signature, example.

A logged model is a ``ChurnModel`` pyfunc (``kedro_ml.serving.model_code``)
carrying the fitted pipeline as a skops file, a copy of the package's
``core`` and ``serving`` code (``code_paths``: it loads where ``kedro_ml`` is
not installed), requirements pinned to this environment, a signature that
types every column a request may hold, and an input example.
"""

from __future__ import annotations

import shutil
import tempfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd

import kedro_ml
from kedro_ml.core import persistence
from kedro_ml.runtime import not_in_ipython
from kedro_ml.serving.inputs import ONLINE_FIELDS, TERMS
from kedro_ml.serving.integrity import digests
from kedro_ml.serving.model import MODEL_ARTIFACT

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


# What the served model's code needs of ``kedro_ml``: its packages and leaf modules.
SERVED_CODE = ("__init__.py", "files.py", "core", "serving")


def _stage_code(folder: Path) -> Path:
    """A copy of the code the served model runs: the parts of ``kedro_ml`` in ``SERVED_CODE``."""
    package = folder / "kedro_ml"
    package.mkdir(parents=True)
    for part in SERVED_CODE:
        if part.endswith(".py"):
            shutil.copy(_PACKAGE / part, package / part)
        else:
            shutil.copytree(
                _PACKAGE / part,
                package / part,
                ignore=shutil.ignore_patterns("__pycache__"),
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
            info = mlflow.pyfunc.log_model(
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
    record_digests(info.model_id, info.model_uri)
    return info


def record_digests(model_id: str, model_uri: str) -> dict[str, str]:
    """Record the SHA-256 of every file the store holds for a logged model, as its tags.

    Read back from the store after logging: what is recorded is what any
    loader will download (``kedro_ml.serving.integrity``).
    """
    with tempfile.TemporaryDirectory() as tmp:
        folder = mlflow.artifacts.download_artifacts(model_uri, dst_path=tmp)
        tags = digests(folder)
    mlflow.MlflowClient().set_logged_model_tags(model_id, tags)
    return tags
