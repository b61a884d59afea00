"""Work that spans several Kedro runs, driven by the project commands in ``kedro_ml.cli``.

Kedro runs every node of a pipeline, so "retrain only if..." and "every month
in turn" are control flow around sessions, not nodes: each module here opens
Kedro sessions in the current process and links their MLflow runs.
"""
