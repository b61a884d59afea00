"""Nothing in the artifact store is trusted on its word: a model's files are checked against digests.

When a model is logged, the SHA-256 of every file of it (the skops model, the
code it ships, ``MLmodel`` and its requirements) is recorded as tags of the
logged model (``record_digests``), in the tracking database rather than beside
the files; promotion copies them to the registered version. Every loader of
the project (batch prediction, ``kedro serve``, the served app) downloads the
model's files, checks them against those tags (``verify``) and loads the
skops file with the installed package's code (``load_verified``): neither a
swapped model file nor code appended to ``model_code.py`` in the store is ever
run. A version without recorded digests is refused, named.

Where a model is served without ``kedro_ml`` (plain ``mlflow models serve``),
this file alone is the check to run first, from a trusted copy of the project
(it needs only MLflow and the standard library)::

    python integrity.py models:/sub_churn_game1@champion [DOWNLOADED_FOLDER]

It exits 0 when every file matches the registry's digests, 1 naming the
first file that does not.
"""

from __future__ import annotations

import hashlib
import re
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

MODEL_TAG = "kedro_ml.sha256.model"
FILES_TAG = "kedro_ml.sha256.files"
DIGEST_TAGS = (MODEL_TAG, FILES_TAG)
MODEL_FILE = "artifacts/sklearn_model.skops"
# written by MLflow into a downloaded copy, never part of what was logged
_ADDED_ON_DOWNLOAD = frozenset({"registered_model_meta"})


class IntegrityError(RuntimeError):
    """A model's files differ from the digests recorded when it was logged."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest(folder: str | Path) -> dict[str, str]:
    """SHA-256 of every file of a model folder, by its path inside it."""
    folder = Path(folder)
    return {
        path.relative_to(folder).as_posix(): _sha256(path)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
        and path.relative_to(folder).as_posix() not in _ADDED_ON_DOWNLOAD
    }


def files_digest(files: dict[str, str]) -> str:
    """One SHA-256 over a manifest: its paths and digests in path order."""
    return hashlib.sha256(
        "".join(
            f"{path}\t{digest}\n" for path, digest in sorted(files.items())
        ).encode()
    ).hexdigest()


def digests(folder: str | Path) -> dict[str, str]:
    """The tags that vouch for a model folder: its model file's digest and all its files'."""
    files = manifest(folder)
    return {MODEL_TAG: files[MODEL_FILE], FILES_TAG: files_digest(files)}


def verify(folder: str | Path, tags: dict[str, str], what: str) -> None:
    """Raise ``IntegrityError`` naming ``what`` unless ``folder`` matches the recorded ``tags``."""
    missing = [tag for tag in DIGEST_TAGS if not tags.get(tag)]
    if missing:
        raise IntegrityError(
            f"{what} has no recorded digests ({', '.join(missing)}): it was logged "
            "without them, so its files cannot be checked and it is not loaded. "
            "Train, score and promote it again to register a checked version."
        )
    files = manifest(folder)
    if MODEL_FILE not in files:
        raise IntegrityError(
            f"{what}: its model file ({MODEL_FILE}) is not in the artifact store "
            "(deleted or moved). It is not loaded; restore it or promote another version."
        )
    if files.get(MODEL_FILE) != tags[MODEL_TAG]:
        raise IntegrityError(
            f"{what}: its model file ({MODEL_FILE}) is not the one logged (SHA-256 "
            f"{files.get(MODEL_FILE)} where {tags[MODEL_TAG]} was recorded): the "
            "artifact store was changed. It is not loaded; restore the file or "
            "promote another version."
        )
    if files_digest(files) != tags[FILES_TAG]:
        raise IntegrityError(
            f"{what}: its files (code, MLmodel or requirements) are not the ones "
            "logged: the artifact store was changed. It is not loaded; restore the "
            "files or promote another version."
        )


def resolve(model_uri: str) -> tuple[str, dict[str, str], str]:
    """Where a model URI's files are, the digests recorded for it, and how to name it."""
    from mlflow import MlflowClient, search_logged_models

    client = MlflowClient()
    alias = re.fullmatch(r"models:/([^/@]+)@([^/]+)", model_uri)
    version = re.fullmatch(r"models:/([^/@]+)/(\d+)", model_uri)
    logged = re.fullmatch(r"models:/(m-[0-9a-f]+)", model_uri)
    run = re.fullmatch(r"runs:/([^/]+)/(.+)", model_uri)
    if alias:
        found = client.get_model_version_by_alias(alias[1], alias[2])
        where = f"models:/{alias[1]}/{found.version}"
        return where, dict(found.tags), f"{model_uri} (version {found.version})"
    if version:
        found = client.get_model_version(version[1], version[2])
        return model_uri, dict(found.tags), f"version {version[2]} of {version[1]}"
    if logged:
        return model_uri, dict(client.get_logged_model(logged[1]).tags), model_uri
    if run:
        experiment = client.get_run(run[1]).info.experiment_id
        models = search_logged_models(
            experiment_ids=[experiment],
            filter_string=f"source_run_id = '{run[1]}' AND name = '{run[2]}'",
            output_format="list",
        )
        if models:
            return f"models:/{models[0].model_id}", dict(models[0].tags), model_uri
    raise IntegrityError(
        f"{model_uri}: not a model whose digests can be looked up; give "
        "models:/<name>@<alias>, models:/<name>/<version>, models:/<model id> "
        "or runs:/<run id>/<name>"
    )


def check(model_uri: str, folder: str | Path | None = None) -> str:
    """Check a model's files (downloaded to ``folder``, or now) against its digests; its name."""
    import mlflow

    where, tags, what = resolve(model_uri)
    if folder is None:
        with tempfile.TemporaryDirectory() as tmp:
            verify(mlflow.artifacts.download_artifacts(where, dst_path=tmp), tags, what)
    else:
        verify(folder, tags, what)
    return what


def load_verified(model_uri: str) -> Any:
    """The served model behind ``model_uri``, its files checked, loaded with the installed code."""
    import mlflow

    from kedro_ml.serving.model import MODEL_ARTIFACT, ChurnModel

    where, tags, what = resolve(model_uri)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(mlflow.artifacts.download_artifacts(where, dst_path=tmp))
        verify(folder, tags, what)
        model = ChurnModel()
        model.load_context(
            SimpleNamespace(artifacts={MODEL_ARTIFACT: str(folder / MODEL_FILE)})
        )
    model.source_uri = what
    return model


def main(argv: list[str]) -> int:
    if not 1 <= len(argv) <= 2:
        print(__doc__.split("::")[1].strip().splitlines()[0].strip(), file=sys.stderr)  # noqa: T201
        return 2
    try:
        what = check(argv[0], argv[1] if len(argv) > 1 else None)
    except IntegrityError as error:
        print(f"NOT VERIFIED: {error}", file=sys.stderr)  # noqa: T201
        return 1
    done = f"verified: every file of {what} matches the digests recorded when it was logged"
    print(done)  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
