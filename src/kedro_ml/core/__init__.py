"""The domain code of kedro_ml: plain functions on DataFrames, free of Kedro and MLflow.

One module per idea: raw-table validation (``validation``), features as of a
prediction time (``features``), labels (``labels``), the configured model
(``model``), parameter blocks (``params``), reports and plots
(``reporting``), drift and the retraining rule (``monitoring``), promotion
(``promotion``), the synthetic game generator (``synthetic``) and seeding
(``seeding``). Nothing here imports ``kedro`` or ``mlflow``, so the package
works in a notebook, a served model or another framework; the Kedro and
MLflow glue lives beside it (``kedro_ml.pipelines``, ``kedro_ml.datasets``,
``kedro_ml.hooks``).
"""
