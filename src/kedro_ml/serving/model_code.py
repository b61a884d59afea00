"""The served model's entry point ("models from code"): MLflow runs this file to load it."""

from mlflow.models import set_model

from kedro_ml.serving.model import ChurnModel

set_model(ChurnModel())
