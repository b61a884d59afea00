"""The pipeline registry, explicit: base pipelines, their sums, and the original names.

Every name is built here from the base pipelines' ``create_pipeline``, so
``kedro run -p NAME`` finds any of them whatever Kedro loads lazily.

* Base pipelines: one folder each under ``kedro_ml.pipelines``.
* Composites, as the original kedro-ml example named them: the standard
  features followed by train, by score and promotion, or by batch scoring.
* ``__default__``: the whole lifecycle (features, train, score, promote, batch
  predict, batch score with monitoring).
* ``<name>_game2``: the original example's names for game 2. A game is a Kedro
  environment here, so they are the same pipelines; run outside
  ``game2_env`` they stop before any node (``kedro_ml.hooks.checks``).
"""

from __future__ import annotations

from kedro.pipeline import Pipeline

from kedro_ml.pipelines import (
    sub_churn_batch_predict,
    sub_churn_batch_score,
    sub_churn_monitor,
    sub_churn_promote,
    sub_churn_refresh_online_store,
    sub_churn_score,
    sub_churn_standard_features,
    sub_churn_synthesize,
    sub_churn_train,
)

# The original example's pipelines that had a `_game2` twin.
GAME2_ALIASED = (
    "sub_churn_standard_features",
    "sub_churn_train",
    "sub_churn_score",
    "sub_churn_batch_predict",
    "sub_churn_batch_score",
    "sub_churn_train_from_raw",
    "sub_churn_score_from_raw",
    "sub_churn_batch_score_from_raw",
)


def register_pipelines() -> dict[str, Pipeline]:
    """Return the registered pipelines by name."""
    standard_features = sub_churn_standard_features.create_pipeline()
    train = sub_churn_train.create_pipeline()
    score = sub_churn_score.create_pipeline()
    promote = sub_churn_promote.create_pipeline()
    batch_predict = sub_churn_batch_predict.create_pipeline()
    monitor = sub_churn_monitor.create_pipeline()
    # scoring a batch always reports its drift too
    batch_score = sub_churn_batch_score.create_pipeline() + monitor

    pipelines = {
        "sub_churn_synthesize": sub_churn_synthesize.create_pipeline(),
        "sub_churn_standard_features": standard_features,
        "sub_churn_train": train,
        "sub_churn_score": score,
        "sub_churn_promote": promote,
        "sub_churn_batch_predict": batch_predict,
        "sub_churn_monitor": monitor,
        "sub_churn_batch_score": batch_score,
        "sub_churn_refresh_online_store": sub_churn_refresh_online_store.create_pipeline(),
        "sub_churn_train_from_raw": standard_features + train,
        "sub_churn_score_from_raw": standard_features + score + promote,
        "sub_churn_batch_score_from_raw": standard_features + batch_score,
        "__default__": (
            standard_features + train + score + promote + batch_predict + batch_score
        ),
    }
    for name in GAME2_ALIASED:
        pipelines[f"{name}_game2"] = pipelines[name]
    return pipelines
