"""Project datasets that kedro-datasets and kedro-mlflow do not provide, one role each.

The catalog names them by module (``kedro_ml.datasets.<module>.<Class>``), so a
run imports only the ones it uses.
"""
