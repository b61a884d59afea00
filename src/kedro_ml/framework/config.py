"""The project's configuration loader: Kedro's, with a clear error where environments disagree.

A game environment overrides only what differs from ``conf/base`` (soft
merge). Where it gives a key another kind of value than base (a list where
base has a mapping), OmegaConf stops with "Cannot merge incompatible
container types", naming nothing. This loader names the key, both kinds and
both folders.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from kedro.config import OmegaConfigLoader


class ConfigConflictError(click.ClickException):
    """An environment gives a key another kind of value than base; shown as a message."""


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a single value ({value!r})"


def conflicts(base: Any, override: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """The keys where ``override`` holds a container of another kind than ``base``."""
    found = []
    if isinstance(base, dict) and isinstance(override, dict):
        for key in sorted(set(base) & set(override), key=str):
            found += conflicts(
                base[key], override[key], f"{path}.{key}" if path else str(key)
            )
        return found
    containers = (dict, list)
    if (isinstance(base, containers) or isinstance(override, containers)) and type(
        base
    ) is not type(override):
        found.append((path, base, override))
    return found


class ProjectConfigLoader(OmegaConfigLoader):
    """``OmegaConfigLoader`` that names the key when an environment's value cannot merge."""

    def __getitem__(self, key: str) -> Any:
        try:
            return super().__getitem__(key)
        except TypeError as error:
            if "incompatible container types" not in str(error):
                raise
            raise ConfigConflictError(self._conflict_message(key)) from error

    def _one(self, env: str, key: str) -> dict:
        alone = OmegaConfigLoader(
            conf_source=str(self.conf_source),
            base_env=env,
            default_run_env=env,
            config_patterns=self.config_patterns,
            custom_resolvers=None,
        )
        try:
            return dict(alone[key])
        except Exception:  # noqa: BLE001 - a folder without that kind of file
            return {}

    def _conflict_message(self, key: str) -> str:
        base_env, run_env = self.base_env or "base", self.env or self.default_run_env
        found = conflicts(self._one(base_env, key), self._one(run_env, key))
        root = Path(str(self.conf_source))
        where = (
            "\n".join(
                f"  - {path}: {_kind(base)} in {root / base_env}, {_kind(other)} in {root / run_env}"
                for path, base, other in found
            )
            or f"  - a key of the {key} files"
        )
        return (
            f"The environment '{run_env}' gives {key} another kind of value than "
            f"'{base_env}', which cannot be merged:\n{where}\nGive it the same kind "
            "as in base (an environment overrides only what differs; to replace a "
            "mapping whole, give every key of it)."
        )
