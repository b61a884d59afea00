"""Versioned files that are written whole, never from the future, and loaded without pickle.

Kedro's versioned datasets load the newest version folder. Here a version is
only ever complete: a save writes a hidden temporary file in the version's
folder and renames it into place, so a failed or killed save leaves nothing a
later run could pick up. A version folder whose name is not a timestamp this
project writes, or that is dated in the future, is refused, naming it; a
version that fails to load is reported with its path and how to load another.

* ``SkopsModelDataset``: a fitted model in skops format (``kedro_ml.core.persistence``:
  only trusted types load), with its SHA-256 and ``model_id`` beside it.
* ``VersionedParquetDataset``: a DataFrame in Parquet (batch predictions).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any

import fsspec
import pandas as pd
from kedro.io.core import (
    VERSION_FORMAT,
    AbstractVersionedDataset,
    DatasetError,
    Version,
    get_filepath_str,
    get_protocol_and_path,
)

from kedro_ml.core import persistence
from kedro_ml.files import atomic_path

# how far ahead of this machine's clock a version may be (clock skew between writers)
_CLOCK_SKEW = dt.timedelta(minutes=5)


def version_time(version: str) -> dt.datetime | None:
    """The UTC time a Kedro version string names, or None when it is not one."""
    try:
        return dt.datetime.strptime(version, VERSION_FORMAT).replace(tzinfo=dt.UTC)
    except ValueError:
        return None


class _SafeVersionedDataset(AbstractVersionedDataset):
    """A versioned file written atomically, whose versions are checked before loading."""

    def __init__(
        self,
        *,
        filepath: str,
        version: Version | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        protocol, path = get_protocol_and_path(filepath, version)
        self._protocol = protocol
        self._fs = fsspec.filesystem(protocol)
        self.metadata = metadata
        super().__init__(
            filepath=PurePosixPath(path),
            version=version,
            exists_function=self._fs.exists,
            glob_function=self._fs.glob,
        )

    def _describe(self) -> dict[str, Any]:
        return {
            "filepath": self._filepath,
            "protocol": self._protocol,
            "version": self._version,
        }

    @property
    def _name(self) -> str:
        return self._filepath.stem

    def resolve_load_version(self) -> str | None:
        version = super().resolve_load_version()
        if version is None:
            return None
        when = version_time(version)
        folder = self._filepath / version
        if when is None:
            raise DatasetError(
                f"{folder}: '{version}' is not a version this project writes "
                f"(format {VERSION_FORMAT}). Remove the folder, or load another "
                f"version with --load-versions={self._name}:<version>"
            )
        now = dt.datetime.now(dt.UTC)
        if when > now + _CLOCK_SKEW:
            raise DatasetError(
                f"{folder}: version {version} is dated in the future (now "
                f"{now.strftime(VERSION_FORMAT)}); no run of this project wrote it. "
                f"Remove the folder, or load another version with "
                f"--load-versions={self._name}:<version>"
            )
        return version

    def _path(self, path: PurePosixPath) -> str:
        return get_filepath_str(path, self._protocol)

    def _write(self, write: Callable[[Any], None], path: str) -> None:
        """Write a file through ``write(file)`` whole (``kedro_ml.files``), then rename it into place."""
        if self._protocol not in ("file", ""):
            with self._fs.open(path, "wb") as file:
                write(file)
            return
        with atomic_path(path) as temporary, open(temporary, "wb") as file:
            write(file)

    def _read_failed(self, path: str, error: Exception) -> DatasetError:
        try:
            others = [v for v in self.list_versions(full_path=False) if v not in path][
                :5
            ]
        except Exception:  # noqa: BLE001 - the listing is only a hint
            others = []
        listing = f" Other versions: {', '.join(others)}." if others else ""
        return DatasetError(
            f"{path} could not be loaded: {error}. Load another version with "
            f"--load-versions={self._name}:<version>.{listing}"
        )

    def _exists(self) -> bool:
        return self._fs.exists(self._path(self._get_load_path()))


class SkopsModelDataset(_SafeVersionedDataset):
    """A fitted model in skops format, versioned, with its digest and identity beside it.

    Loading refuses any type outside ``kedro_ml.core.persistence.TRUSTED_TYPES``
    and a file whose SHA-256 differs from the one recorded when it was saved.
    """

    @staticmethod
    def _sidecar(path: str) -> str:
        return path.rsplit(".", 1)[0] + ".json"

    def load(self) -> Any:
        path = self._path(self._get_load_path())
        try:
            with self._fs.open(path, "rb") as file:
                data = file.read()
            with self._fs.open(self._sidecar(path), "r") as file:
                recorded = json.load(file)
            if recorded.get("sha256") != persistence.sha256(data):
                raise ValueError(
                    "its SHA-256 is not the one recorded when it was saved "
                    f"({self._sidecar(path)}): it was changed or replaced"
                )
            return persistence.loads(data, source=path)
        except Exception as error:  # noqa: BLE001 - reported with the path and what to do
            raise self._read_failed(path, error) from error

    def save(self, data: Any) -> None:
        path = self._path(self._get_save_path())
        blob = persistence.dumps(data)
        record = {
            "sha256": persistence.sha256(blob),
            "model_id": getattr(data, "model_id_", None),
            "saved_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        # the digest first: a version exists once its model file does
        self._write(
            lambda f: f.write(json.dumps(record, indent=1).encode()),
            self._sidecar(path),
        )
        self._write(lambda f: f.write(blob), path)

    def model_ids(self) -> dict[str, str]:
        """``model_id`` of each saved version, newest first (versions without one left out)."""
        found = {}
        for path in self.list_versions(full_path=True):
            try:
                with self._fs.open(self._sidecar(path), "r") as file:
                    model_id = json.load(file).get("model_id")
            except (OSError, ValueError):
                continue
            if model_id:
                found[self._get_version_from_path(path)] = model_id
        return found


class VersionedParquetDataset(_SafeVersionedDataset):
    """A DataFrame in Parquet, versioned, written whole."""

    def __init__(self, *, save_args: dict[str, Any] | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self._save_args = dict(save_args or {})

    def load(self) -> pd.DataFrame:
        path = self._path(self._get_load_path())
        try:
            with self._fs.open(path, "rb") as file:
                return pd.read_parquet(file)
        except Exception as error:  # noqa: BLE001 - reported with the path and what to do
            raise self._read_failed(path, error) from error

    def save(self, data: pd.DataFrame) -> None:
        path = self._path(self._get_save_path())
        self._write(lambda f: data.to_parquet(f, **self._save_args), path)
