"""The pipeline registry: every pipeline folder is discovered by ``find_pipelines``.

Base pipelines and the ``*_from_raw`` composites (sums of base pipelines) each
have a folder under ``pipelines/``, so Kedro's selective loading of
``kedro run -p NAME`` finds them. ``__default__`` is the whole lifecycle:
features, train, score, promote, batch predict and batch score.
"""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

LIFECYCLE = (
    "sub_churn_standard_features",
    "sub_churn_train",
    "sub_churn_score",
    "sub_churn_promote",
    "sub_churn_batch_predict",
    "sub_churn_batch_score",
)


def register_pipelines() -> dict[str, Pipeline]:
    """Return the registered pipelines by name."""
    pipelines = find_pipelines(raise_errors=True)
    # With `-p NAME`, Kedro loads only the requested folders; the lifecycle is
    # assembled when all of it was loaded (a plain `kedro run`, or a listing).
    if all(name in pipelines for name in LIFECYCLE):
        pipelines["__default__"] = sum(
            (pipelines[name] for name in LIFECYCLE), Pipeline([])
        )
    return pipelines
