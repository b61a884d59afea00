"""Configuration resolvers the project registers with Kedro's config loader.

``km.project_path`` gives a path under the running project's root, so that
``sqlite:///${km.project_path:mlflow.db}`` is one store wherever Kedro is
started from (a notebook in ``notebooks/``, a replay's work folder with its
own configuration). The root is the one a session names when its context is
created (``use_project``); before any session, the Kedro project around the
working folder, else the working folder.
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


RESOLVERS = {"km.project_path": project_path}
