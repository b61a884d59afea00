"""The local record of promotions, and the local model version that holds a promoted model.

Every promotion the registry carries out is also appended to
``<data_root>/06_models/promotions.json`` (oldest first): offline batch
prediction (``model_source=local``) and the replay read the champion from it
and from the local model versions (``SkopsModelDataset``), without a registry.
The one home of both: the champion dataset, the promotion dataset and the
replay call these functions.
"""

from __future__ import annotations

import json
from pathlib import Path

from kedro.io import DatasetError
from kedro.io.core import Version

from kedro_ml.core.model import ModelVersion
from kedro_ml.datasets.versioned import SkopsModelDataset
from kedro_ml.files import atomic_path


def read_promotions(path: str | Path) -> list[dict]:
    """The local record of promotions, oldest first (empty when there is none)."""
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        return []


def append_promotion(path: str | Path, entry: dict) -> None:
    """Add ``entry`` to the local record, rewriting it whole (a rename, never half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = [*read_promotions(path), entry]
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(record, indent=1))


def local_version(models_filepath: str | Path, model_id: str) -> str | None:
    """The local version of ``models_filepath`` that holds ``model_id`` (the newest), or None."""
    models = SkopsModelDataset(
        filepath=str(models_filepath), version=Version(None, None)
    )
    versions = [v for v, m in models.model_ids().items() if m == model_id]
    return versions[0] if versions else None  # model_ids lists the newest first


def latest_promotion(record_filepath: str | Path) -> dict | None:
    """The newest entry of the local record, or None before the first promotion."""
    promotions = read_promotions(record_filepath)
    return promotions[-1] if promotions else None


def local_champion(
    record_filepath: str | Path, models_filepath: str | Path, registered_model: str
) -> ModelVersion | None:
    """The newest locally promoted model, loaded from its local version (None before any)."""
    latest = latest_promotion(record_filepath)
    if latest is None:
        return None
    version = local_version(models_filepath, latest["model_id"])
    if version is None:
        raise DatasetError(
            f"{record_filepath} names model {latest['model_id']} (registry version "
            f"{latest['version']}), but no local version in {models_filepath} holds "
            "it; use the registry (the default), or train it here"
        )
    local = SkopsModelDataset(
        filepath=str(models_filepath), version=Version(version, None)
    )
    return ModelVersion(
        model=local.load(),
        source=(
            f"local {models_filepath}/{version} (promoted as {registered_model} "
            f"version {latest['version']})"
        ),
        version=latest["version"],
    )
