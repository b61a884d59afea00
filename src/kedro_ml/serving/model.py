"""``ChurnModel``: churn probabilities from the fitted sklearn Pipeline it wraps.

Two kinds of request, told apart by their columns:

* **online** (what a game server has): ``char_id``, the subscription's terms
  (``sub_type``, ``sub_months``, ``sub_size``, ``price``,
  ``num_hard_currency``, ``num_soft_currency``) and optionally ``sub_id`` and
  ``sub_start_date`` (the month the online store is as of, its default; the
  store holds no features for another month). The character's template comes
  from the online store (``KEDRO_ML_ONLINE_STORE``, see
  ``kedro_ml.serving.store``), written by the same feature code as batch
  prediction (``kedro_ml.core.online``). A character the store does not know
  is answered as one without history, and flagged ``known_character: false``;
  the share of such rows is logged per refresh of the store (``UnknownShare``).
* **feature rows** (batch callers): rows of the batch feature table, answered
  with ``sub_id`` and ``sub_churn_pred``, as batch prediction computes them.

Requests outside the data contract are refused (``RequestError``; an MLflow
``INVALID_PARAMETER_VALUE``, HTTP 400), naming the column and the row.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

from kedro_ml.core.features import TERM_FEATURES
from kedro_ml.core.model import predict_proba
from kedro_ml.core.online import template_feature_rows
from kedro_ml.core.persistence import load_file
from kedro_ml.serving.inputs import (
    ONLINE_FIELDS,
    RequestError,
    check_feature_rows,
    check_online_rows,
    check_size,
    is_online_request,
)
from kedro_ml.serving.store import OnlineStore, StoreError, check_store_model

# The artifact that holds the fitted sklearn Pipeline, in skops format.
MODEL_ARTIFACT = "sklearn_model"
# At most this many rows per request (``KEDRO_ML_MAX_ROWS`` sets another).
MAX_ROWS_ENV = "KEDRO_ML_MAX_ROWS"
DEFAULT_MAX_ROWS = 10_000
# Where the online store is (a path to its SQLite file).
STORE_ENV = "KEDRO_ML_ONLINE_STORE"


logger = logging.getLogger(__name__)


class UnknownShare:
    """Rows answered per refresh of the store, and how many for characters it did not know.

    A character created after the store's refresh is answered as a newcomer,
    not from its history as batch prediction answers it (the online skew the
    README measures). One line is logged when a refresh period ends (the store
    changed under the server) and every ``every`` rows within one.
    """

    def __init__(self, every: int = 10_000) -> None:
        self.every = every
        self._lock = threading.Lock()
        self._period: tuple | None = None
        self.rows = 0
        self.unknown = 0
        self._next_log = every

    def add(self, meta: dict, known: np.ndarray) -> None:
        period = (meta.get("as_of"), meta.get("written_at"))
        with self._lock:
            if period != self._period:
                if self._period is not None and self.rows:
                    self._log("until its refresh")
                self._period, self.rows, self.unknown = period, 0, 0
                self._next_log = self.every
            self.rows += len(known)
            self.unknown += int(len(known) - np.count_nonzero(known))
            if self.rows >= self._next_log:
                self._log("so far")
                self._next_log += self.every * (
                    1 + (self.rows - self._next_log) // self.every
                )

    @property
    def share(self) -> float:
        return self.unknown / self.rows if self.rows else 0.0

    def _log(self, when: str) -> None:
        as_of, written_at = self._period
        logger.info(
            "Online store as of %s (refreshed %s), %s: %d rows answered, %d (%.1f %%) "
            "for characters it did not know (answered as newcomers)%s",
            as_of,
            written_at or "at an unknown time",
            when,
            self.rows,
            self.unknown,
            100 * self.share,
            "; refresh the store more often" if self.share > 0.05 else "",
        )


def max_rows() -> int:
    """The most rows a request may hold."""
    try:
        return max(1, int(os.environ.get(MAX_ROWS_ENV, DEFAULT_MAX_ROWS)))
    except ValueError:
        return DEFAULT_MAX_ROWS


def as_columns(rows: Any) -> dict[str, np.ndarray]:
    """A request's rows as ``{column: array}`` (from a DataFrame or a mapping)."""
    if isinstance(rows, pd.DataFrame):
        return {str(column): rows[column].to_numpy() for column in rows.columns}
    return {str(column): np.asarray(values) for column, values in rows.items()}


class ChurnModel(mlflow.pyfunc.PythonModel):
    """Churn probabilities for online requests or feature rows, from a skops-saved Pipeline."""

    def load_context(self, context: Any) -> None:
        self.model = load_file(context.artifacts[MODEL_ARTIFACT])
        self._store: OnlineStore | None = None
        self._fits: dict | None = None  # the store meta last found to fit the model
        self.unknown_share = UnknownShare()

    @property
    def store(self) -> OnlineStore:
        """The online store ``KEDRO_ML_ONLINE_STORE`` names, opened once."""
        if self._store is None:
            path = os.environ.get(STORE_ENV)
            if not path:
                raise StoreError(
                    f"online requests need the online store: set {STORE_ENV} to its "
                    "file (kedro run -p sub_churn_refresh_online_store writes it)"
                )
            self._store = OnlineStore(path)
        meta = self._store.meta
        if meta is not self._fits:  # once per version of the store file
            self._check_fits(self._store)
            self._fits = meta
        return self._store

    def _check_fits(self, store: OnlineStore) -> None:
        """Refuse a store refreshed for another model, or lacking a column the model reads."""
        meta = store.meta
        check_store_model(store.path, meta, getattr(self.model, "model_id_", None))
        windows = getattr(self.model, "windows_months_", None)
        if windows is not None and sorted(meta.get("windows_months", [])) != sorted(
            int(w) for w in windows
        ):
            raise StoreError(
                f"the online store at {store.path} holds features for windows "
                f"{meta.get('windows_months')}, the model reads windows {list(windows)}: "
                "refresh the store with the model's features.windows_months"
            )
        given = {*ONLINE_FIELDS, *TERM_FEATURES, *store.columns}
        missing = [c for c in self.model.feature_names_ if c not in given]
        if missing:
            raise StoreError(
                f"the online store at {store.path} lacks {missing}, which the model "
                "reads: refresh it with the model's feature settings"
            )

    def _answer_online(self, rows: dict[str, np.ndarray]) -> dict[str, Any]:
        check_size(rows, max_rows())  # before the store: a refusal needs none
        store = self.store
        meta = store.meta
        requests = check_online_rows(rows, max_rows(), store.as_of)
        templates, known, as_of = store.templates(requests["char_id"])
        self.unknown_share.add(meta, known)
        if as_of != requests["sub_start_date"][0]:  # refreshed in between: check again
            requests = check_online_rows(rows, max_rows(), as_of)
        features = template_feature_rows(requests, templates)
        given = (
            "sub_id" in rows and not pd.isna(np.asarray(rows["sub_id"], object)).all()
        )
        n = len(known)
        return {
            "sub_id": requests["sub_id"] if given else np.full(n, None),
            "char_id": requests["char_id"],
            "sub_start_date": np.full(n, str(as_of.date())),
            "sub_churn_pred": predict_proba(self.model, features),
            "known_character": known,
        }

    def answer(self, rows: Any) -> dict[str, np.ndarray]:
        """The answer to a request, as columns; ``RequestError`` when it breaks the contract.

        ``rows`` is a DataFrame or a mapping of column arrays.
        """
        columns = as_columns(rows)
        if is_online_request(columns, self.model):
            return self._answer_online(columns)
        frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(columns)
        check_feature_rows(frame, self.model, max_rows())
        return {
            "sub_id": frame["sub_id"].to_numpy(dtype="int64"),
            "sub_churn_pred": predict_proba(self.model, frame),
        }

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict | None = None
    ) -> pd.DataFrame:
        """Churn probabilities for online requests or feature rows (see the module docstring)."""
        try:
            return pd.DataFrame(self.answer(model_input))
        except RequestError as error:
            raise MlflowException(
                str(error), error_code=INVALID_PARAMETER_VALUE
            ) from None
        except StoreError as error:
            raise MlflowException(str(error)) from None
