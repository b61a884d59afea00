"""The online store as a catalog dataset (its file format: ``kedro_ml.serving.store``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset

from kedro_ml.serving.store import OnlineStore, write_store


class OnlineStoreDataset(AbstractDataset):
    """Saves ``{"tables": {...}, "meta": {...}}`` as the store file; loads an ``OnlineStore``."""

    def __init__(self, *, filepath: str, metadata: dict | None = None) -> None:
        self._filepath = Path(filepath)
        self.metadata = metadata

    @property
    def filepath(self) -> Path:
        """Where the store file is."""
        return self._filepath

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}

    def load(self) -> OnlineStore:
        return OnlineStore(self._filepath)

    def save(self, data: dict) -> None:
        write_store(self._filepath, data["tables"], data["meta"])

    def _exists(self) -> bool:
        return self._filepath.is_file()
