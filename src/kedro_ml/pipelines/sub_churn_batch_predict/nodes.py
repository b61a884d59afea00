"""Nodes of the batch prediction pipeline.

Given Spark DataFrames (``--env=spark_env``), the node runs its Spark twin
(``kedro_ml.spark.nodes``), which predicts each partition with the same
``kedro_ml.core`` function.
"""

from __future__ import annotations

import pandas as pd

from kedro_ml.core.batch import batch_predictions, log_batch_prediction
from kedro_ml.core.model import ModelVersion
from kedro_ml.spark import runs_on_spark


@runs_on_spark("predict_batch")
def predict_batch(champion: ModelVersion, batch_features: pd.DataFrame) -> pd.DataFrame:
    """Churn probabilities for the batch window, with the identity and source of the model used."""
    log_batch_prediction(len(batch_features), champion)
    return batch_predictions(champion, batch_features)
