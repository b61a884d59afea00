"""kedro_ml: subscription churn prediction for online games."""

__version__ = "0.1.0"
