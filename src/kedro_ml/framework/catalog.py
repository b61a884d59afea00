"""What the project reads of a Kedro catalog, through its public API only."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def dataset_config(catalog: Any, name: str) -> dict[str, Any]:
    """The resolved configuration of catalog entry ``name`` ({} for one it does not hold)."""
    if name not in catalog:
        return {}
    config = catalog.config_resolver.config.get(name)
    if config is None:
        config = catalog.config_resolver.resolve_pattern(name)
    return dict(config or {})


def dataset_filepath(catalog: Any, name: str) -> Path | None:
    """Where catalog entry ``name`` keeps its data, as configured, or None."""
    config = dataset_config(catalog, name)
    # a wrapper (an MLflow artifact, a table written behind) names its file inside
    filepath = config.get("filepath") or (config.get("dataset") or {}).get("filepath")
    return Path(str(filepath)) if filepath else None


def dataset_metadata(catalog: Any, name: str, key: str) -> Any:
    """The value of ``key`` in entry ``name``'s ``metadata: {kedro_ml: {...}}``, or None."""
    metadata = dataset_config(catalog, name).get("metadata") or {}
    return (metadata.get("kedro_ml") or {}).get(key)


def shown_path(path: Path) -> str:
    """``path`` relative to the working folder when it is inside it, else absolute."""
    resolved = path.resolve()
    try:
        return str(resolved.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(resolved)
