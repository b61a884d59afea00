"""The churn model in MLflow: logged by training, registered by promotion, read as the champion.

Three datasets, one role each; none decides anything:

* ``MlflowModelLoggerDataset`` (save only): logs a fitted model to the active
  run as the served model (``kedro_ml.serving.packaging``). Training logs each
  candidate once.
* ``MlflowPromotionDataset`` (save only): carries out the decision of
  ``sub_churn_promote`` (``kedro_ml.core.promotion``): registers the
  candidate as a new version and, when the decision promotes it, moves the
  ``champion`` alias with a compare-and-set. If the champion moved since the
  decision was made, it stops, naming both versions: rerunning the promotion
  decides again, against the new champion.
* ``MlflowChampionDataset`` (load only): the version under an alias, from the
  registry or from the local record (``kedro_ml.datasets.promotions``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import socket
import time
from collections.abc import Iterator
from typing import Any

import mlflow
from kedro.io import AbstractDataset, DatasetError
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from kedro_ml.core.model import ModelVersion
from kedro_ml.datasets.mlflow_run import require_active_run
from kedro_ml.datasets.promotions import (
    append_promotion,
    latest_promotion,
    local_champion,
)
from kedro_ml.files import process_alive
from kedro_ml.serving.integrity import DIGEST_TAGS, IntegrityError, load_verified
from kedro_ml.serving.packaging import MODEL_ID_TAG, log_churn_model

logger = logging.getLogger(__name__)

# How long a promotion waits for another one to finish moving the alias, and
# after how long a lock left by a killed process is taken over.
LOCK_WAIT_SECONDS = 60.0
STALE_LOCK_SECONDS = 300.0
_POLL_SECONDS = 0.2


class ChampionChangedError(DatasetError):
    """The champion moved after the decision was made against it: decide again."""


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
        require_active_run("Logging the model")
        info = log_churn_model(
            data["model"], data["input_example"], self._artifact_path
        )
        logger.info("Logged model %s as %s", data["model"].model_id_, info.model_uri)


class RegistryReadError(DatasetError):
    """The registry could not be read: never taken for "there is no champion"."""


def _absent(error: MlflowException) -> bool:
    """Whether ``error`` says the registered model or the alias does not exist (and nothing else)."""
    text = str(error)
    return (
        error.error_code == "RESOURCE_DOES_NOT_EXIST" and "Registered Model" in text
    ) or (
        error.error_code == "INVALID_PARAMETER_VALUE"
        and "alias" in text
        and "not found" in text
    )


def alias_version(client: MlflowClient | None, name: str, alias: str) -> str | None:
    """The version under ``name@alias``; None only when the model or the alias does not exist.

    Any other failure (a locked, corrupt or unreachable store) stops with
    ``RegistryReadError`` naming the store and the alias: promotion must not
    decide "there is no champion yet" on a registry it could not read.
    ``client`` None: a client of the current tracking URI.
    """
    try:
        client = client or MlflowClient()
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException as error:
        if _absent(error):
            return None
        raise RegistryReadError(
            f"models:/{name}@{alias} could not be read from the tracking store "
            f"{mlflow.get_tracking_uri()}: {error}. Fix or restore the store (or "
            "MLFLOW_TRACKING_URI) and run again; nothing was decided without it."
        ) from error
    except (
        Exception
    ) as error:  # the store's own failure: a corrupt file, a driver error
        raise RegistryReadError(
            f"The tracking store {mlflow.get_tracking_uri()} could not be read "
            f"({type(error).__name__}: {error}) while looking up models:/{name}@{alias}. "
            "Fix or restore the store (or MLFLOW_TRACKING_URI) and run again."
        ) from error


def load_version(name: str, version: str, alias: str) -> ModelVersion:
    """Version ``version`` of registered model ``name``, as a ``ModelVersion``.

    Its files are checked against the digests recorded when it was logged and
    the model is loaded with the installed package's code, never with code from
    the store (``kedro_ml.serving.integrity``). A version whose files are gone
    (a dangling alias) or changed stops, naming it.
    """
    try:
        served = load_verified(f"models:/{name}/{version}")
    except IntegrityError as error:
        raise RegistryReadError(
            f"models:/{name}@{alias} is version {version}, which is not loaded: {error}"
        ) from error
    except Exception as error:
        raise RegistryReadError(
            f"models:/{name}@{alias} is version {version}, whose model cannot be "
            f"loaded from {mlflow.get_tracking_uri()} ({type(error).__name__}: "
            f"{str(error)[:300]}). Restore its files, or point the alias at a "
            "version that loads; nothing was decided without it."
        ) from error
    return ModelVersion(
        model=served.model,
        source=f"models:/{name}@{alias} (version {version})",
        version=version,
    )


HOLDER_HOST_TAG = "kedro_ml.host"
HOLDER_PID_TAG = "kedro_ml.pid"


def _holder_gone(tags: dict[str, str], host: str) -> bool:
    """Whether a lock's holder was a process of ``host`` that no longer runs."""
    pid = tags.get(HOLDER_PID_TAG, "")
    return (
        tags.get(HOLDER_HOST_TAG) == host
        and pid.isdigit()
        and not process_alive(int(pid))
    )


@contextlib.contextmanager
def alias_lock(
    client: MlflowClient, name: str, alias: str, wait: float = LOCK_WAIT_SECONDS
) -> Iterator[None]:
    """Hold the right to move ``name@alias`` while the block runs, across processes and clones.

    MLflow moves an alias without a condition, so two promotions could each
    see the same champion and both move it. The lock is a registered model
    named ``<name>.<alias>-lock``: the store creates a name once (a unique key
    in its database, on a server too), so one holder at a time; it is deleted
    when the block ends. A lock whose holder is gone (a process of this host
    that no longer runs, say after the server went away mid-promotion) is taken
    over at once; one of another host after ``STALE_LOCK_SECONDS``.
    """
    lock = f"{name}.{alias}-lock"
    host, pid = socket.gethostname(), os.getpid()
    holder = f"pid {pid} on {host}"
    deadline = time.monotonic() + wait
    while True:
        try:
            client.create_registered_model(
                lock,
                tags={HOLDER_HOST_TAG: host, HOLDER_PID_TAG: str(pid)},
                description=f"held by {holder} while it moves {name}@{alias}",
            )
            break
        except MlflowException as error:
            if error.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
        with contextlib.suppress(MlflowException):  # released meanwhile: try again
            held = client.get_registered_model(lock)
            age = time.time() - held.creation_timestamp / 1000
            if age > STALE_LOCK_SECONDS or _holder_gone(held.tags, host):
                logger.warning(
                    "Taking over %s, left %.0f s ago (%s)", lock, age, held.description
                )
                client.delete_registered_model(lock)
                continue
            if time.monotonic() > deadline:
                raise ChampionChangedError(
                    f"Another promotion of {name} has held {lock} for {age:.0f} s "
                    f"({held.description}); run the promotion again once it is done"
                )
        time.sleep(_POLL_SECONDS)
    try:
        yield
    finally:
        with contextlib.suppress(MlflowException):
            client.delete_registered_model(lock)


class MlflowPromotionDataset(AbstractDataset):
    """Registers the scored candidate and, when the decision says so, makes it the champion.

    ``save`` takes the promotion request of ``sub_churn_promote``: the
    candidate's ``model_id`` (the logged model with that tag is registered),
    whether to promote, why, and the champion version the decision was made
    against (None when there was none). The alias moves only if it still
    points at that version (checked and moved under ``alias_lock``); otherwise
    ``ChampionChangedError`` says which version is champion now and what to
    run. Every promotion is also kept in the local record
    (``record_filepath``, ``kedro_ml.datasets.promotions``).
    """

    def __init__(
        self,
        *,
        registered_model_name: str,
        record_filepath: str,
        alias: str = "champion",
        metadata: dict | None = None,
    ):
        self._name = registered_model_name
        self._alias = alias
        self._record = record_filepath
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

    def _registered(self, client: MlflowClient, model_id: str) -> str | None:
        """The newest version of the registered model that holds ``model_id``, or None."""
        try:
            versions = client.search_model_versions(
                f"name = '{self._name}' and tags.`{MODEL_ID_TAG}` = '{model_id}'"
            )
        except MlflowException as error:
            raise RegistryReadError(
                f"The versions of {self._name} could not be read from the tracking "
                f"store {mlflow.get_tracking_uri()}: {error}. Fix or restore the store "
                "(or MLFLOW_TRACKING_URI) and run again."
            ) from error
        numbers = sorted(int(v.version) for v in versions)
        return str(numbers[-1]) if numbers else None

    def _register(self, data: dict[str, Any]) -> str:
        logged = self._logged_model(data["model_id"])
        # the digests recorded at logging go with the version (kedro_ml.serving.integrity)
        client = MlflowClient()
        try:  # the registered model, once per game (quietly: MLflow's helper prints)
            client.create_registered_model(self._name)
        except MlflowException as error:
            if error.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
        registered = client.create_model_version(
            self._name,
            f"models:/{logged.model_id}",
            run_id=logged.source_run_id,
            model_id=logged.model_id,
            tags={
                "candidate_roc_auc": str(data["candidate_roc_auc"]),
                MODEL_ID_TAG: data["model_id"],
                **{tag: logged.tags[tag] for tag in DIGEST_TAGS if tag in logged.tags},
            },
        )
        version = str(registered.version)
        mlflow.set_tag("registered_version", version)
        logger.info("Registered %s as version %s", data["model_id"], version)
        return version

    def _move_alias(self, client: MlflowClient, version: str, seen: str | None) -> None:
        """Move the alias to ``version`` if it still points at ``seen`` (compare-and-set)."""
        with alias_lock(client, self._name, self._alias):
            current = alias_version(client, self._name, self._alias)
            if current != seen:
                client.set_model_version_tag(self._name, version, "promoted", "False")
                raise ChampionChangedError(
                    f"The {self._alias} of {self._name} is version {current or 'none'} "
                    f"now, not {seen or 'none'} as when this run decided: another "
                    f"promotion moved it meanwhile. Version {version} is registered, "
                    "not promoted. Run `kedro run -p sub_churn_promote` again to "
                    "decide against the new champion."
                )
            client.set_registered_model_alias(self._name, self._alias, version)
            client.set_model_version_tag(self._name, version, "promoted", "True")

    def save(self, data: dict[str, Any]) -> None:
        require_active_run("Registering the candidate")
        client = MlflowClient()
        already = self._registered(client, data["model_id"])
        if (
            already is not None
        ):  # scored again: the same model (configuration, seed, rows)
            mlflow.set_tag("registered_version", already)
            logger.info(
                "Model %s is already version %s of %s: not registered again",
                data["model_id"],
                already,
                self._name,
            )
        version = already or self._register(data)
        seen = data["champion_version"]
        seen = None if seen is None else str(seen)
        if not data["promote"]:
            if already is None:  # a version registered earlier keeps its own record
                client.set_model_version_tag(self._name, version, "promoted", "False")
            return
        self._move_alias(client, version, seen)
        logger.info("models:/%s@%s is now version %s", self._name, self._alias, version)
        append_promotion(
            self._record,
            {
                "model_id": data["model_id"],
                "registered_model": self._name,
                "version": version,
                "replaced_version": seen,
                "reason": data["reason"],
                "promoted_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
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

    def load(self) -> ModelVersion | None:
        if self._source == "local":
            champion = local_champion(self._record, self._models, self._name)
            if champion is None:
                return self._missing(f"A promoted model in {self._record}")
            return champion
        current = alias_version(None, self._name, self._alias)
        if current is None:
            return self._missing(f"models:/{self._name}@{self._alias}")
        return load_version(self._name, current, self._alias)

    def save(self, data: Any) -> None:
        raise DatasetError(
            "MlflowChampionDataset is read-only: promotion moves the champion "
            "(kedro_ml.datasets.mlflow_models.MlflowPromotionDataset)"
        )

    def _exists(self) -> bool:
        if self._missing_ok:
            return True
        if self._source == "local":
            return latest_promotion(self._record) is not None
        return alias_version(None, self._name, self._alias) is not None
