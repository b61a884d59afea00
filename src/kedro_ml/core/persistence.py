"""Fitted models on disk without pickle: skops, with an explicit list of trusted types.

A pickle runs whatever code its author chose when it is loaded, so a model
file dropped into a models folder would run as the user on the next batch
prediction. skops stores a model as data (a zip of JSON and arrays) and only
rebuilds types it is told to trust: scikit-learn's own estimators, plus the
internal types listed in ``TRUSTED_TYPES``, each reviewed. A file that needs
any other type is refused, naming it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

# skops is imported where a model is written or read, not with this module:
# importing it builds its list of trusted scikit-learn types (~1.7 s), which
# every run paid through the model datasets' module, models or not.

# Types that skops does not trust by default and that the project's models
# hold: each is plain data inside a fitted estimator (tree arrays, the
# calibrator of CalibratedClassifierCV, its fold splitter, array dtypes).
TRUSTED_TYPES = (
    "kedro_ml.core.transformers.Log",
    "kedro_ml.core.transformers.MedianImputer",
    "numpy.dtype",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.model_selection._split.TimeSeriesSplit",
    "sklearn.tree._tree.Tree",
)


class UntrustedModelError(ValueError):
    """A model file needs types that are not on the trusted list."""


def dumps(model: Any) -> bytes:
    """The model in skops format."""
    import skops.io as sio

    return sio.dumps(model)


def loads(data: bytes, source: str = "the model file") -> Any:
    """The model stored in ``data``, refusing any type outside ``TRUSTED_TYPES``."""
    import skops.io as sio

    try:
        untrusted = sio.get_untrusted_types(data=data)
    except Exception as exc:  # noqa: BLE001 - skops raises several kinds on bad zips
        raise UntrustedModelError(
            f"{source} is not a model saved by this project (skops format): {exc}"
        ) from exc
    unknown = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if unknown:
        raise UntrustedModelError(
            f"{source} needs types this project does not trust: {unknown}. "
            "Only models saved by kedro_ml load; retrain to replace it."
        )
    return sio.loads(data, trusted=list(untrusted))


def load_file(path: str | Path) -> Any:
    """The model in the skops file at ``path`` (see ``loads``)."""
    return loads(Path(path).read_bytes(), source=str(path))


def sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()
