"""Configuration resolvers the project registers with Kedro's config loader.

``km.project_path`` gives a path under the running project's root, so that
``sqlite:///${km.project_path:mlflow.db}`` is one store wherever Kedro is
started from (a notebook in ``notebooks/``, a replay's work folder with its
own configuration). The root is the one a session names when its context is
created (``use_project``); before any session, the Kedro project around the
working folder, else the working folder.

``km.artifact_location`` is where a new experiment keeps its artifacts: under
the project for a store on this machine (sqlite, a folder), and nowhere of
ours for a tracking server, whose own artifact store (``mlflow-artifacts:``,
the bucket behind it) then holds them: a local path there would make clients
write beside the server instead of through it.
"""

from __future__ import annotations

from pathlib import Path

_root: Path | None = None


def use_project(path: str | Path) -> None:
    """Resolve ``km.project_path`` under ``path`` from now on (one project per process)."""
    global _root  # noqa: PLW0603 - the process's one project, as Kedro's own settings
    _root = Path(path).resolve()


def project_path(relative: str = "") -> str:
    """``relative`` under the running project's root (the ``km.project_path`` resolver)."""
    root = _root
    if root is None:
        from kedro.utils import find_kedro_project

        root = find_kedro_project(Path.cwd()) or Path.cwd()
    return str((Path(root) / relative).resolve())


# Tracking URIs whose server decides where artifacts go.
_SERVER_SCHEMES = ("http", "https", "databricks", "databricks-uc", "uc")


def is_tracking_server(tracking_uri: str | None) -> bool:
    """Whether ``tracking_uri`` is a server's (it chooses the artifact store), not a local store."""
    scheme, sep, _ = str(tracking_uri or "").partition(":")
    scheme = scheme.lower()
    # "databricks" alone names a profile's workspace, a server too
    return scheme in _SERVER_SCHEMES and (bool(sep) or scheme.startswith("databricks"))


def artifact_location(tracking_uri: str | None, relative: str) -> str | None:
    """``relative`` under the project for a local store; ``None`` (the server's choice) for a server."""
    if is_tracking_server(tracking_uri):
        return None
    return project_path(relative)


RESOLVERS = {"km.project_path": project_path, "km.artifact_location": artifact_location}
