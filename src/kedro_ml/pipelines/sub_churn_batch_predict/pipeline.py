"""Pipeline ``sub_churn_batch_predict``: the champion's predictions for a batch window, no labels read."""

from kedro.pipeline import Node, Pipeline

from kedro_ml.pipelines.window_features import window_features

from .nodes import predict_batch


def create_pipeline(**kwargs) -> Pipeline:
    """Features for ``batch_predict.window`` from the label-free feature store, then predictions.

    The model is the registry's champion (``champion_model@pyfunc``). Where
    promotion runs in the same pipeline (``__default__``), it writes
    ``champion_model@promotion``: the same dataset for Kedro, so batch
    prediction runs after the promotion decided the champion.
    """
    return Pipeline(
        [
            window_features("batch_predict", "subscription_features"),
            Node(
                predict_batch,
                ["champion_model@pyfunc", "batch_predict_features"],
                "batch_predictions",
                name="predict_batch",
            ),
        ],
        tags=["batch_predict"],
    )
