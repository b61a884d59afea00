"""Pipeline ``sub_churn_batch_predict``: predictions for a batch window, no labels read."""

from kedro.pipeline import Node, Pipeline

from kedro_ml.pipelines.window_features import window_feature_pipeline

from .nodes import predict_batch


def create_pipeline(**kwargs) -> Pipeline:
    """Features for ``batch_predict.window`` from the label-free feature store, then predictions.

    ``batch_predict.model_source`` picks the latest local model or the registry's
    champion (``model_registry``, read after promotion when both run together).
    """
    return Pipeline(
        [
            window_feature_pipeline("batch_predict", "subscription_features"),
            Node(
                predict_batch,
                [
                    "sub_churn_model",
                    "model_registry",
                    "batch_predict_features",
                    "params:batch_predict.model_source",
                ],
                "batch_predictions",
                name="predict_batch",
            ),
        ],
        tags=["batch_predict"],
    )
