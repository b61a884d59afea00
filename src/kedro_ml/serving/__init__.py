"""The served churn model: an MLflow pyfunc that ships with its own code.

Every logged model carries this package and ``kedro_ml.core`` as its
``code_paths``, and pins only what they import (``pip_requirements``), so
``models:/sub_churn_<game>@champion`` loads and serves where ``kedro_ml`` is
not installed. Nothing here imports Kedro.
"""
