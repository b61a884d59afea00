"""Pipeline ``sub_churn_standard_features``: raw tables to the churn feature store."""

from kedro.pipeline import Node, Pipeline

from kedro_ml.core.metrics import mlflow_metrics

from .nodes import (
    build_churn_labels,
    build_subscription_features,
    join_labels,
    validate_character_currency,
    validate_characters,
    validate_sub_data,
    validate_sub_miss,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Validate the raw tables, then build subscription features, labels and the primary table."""
    return Pipeline(
        [
            Node(
                validate_characters,
                "characters",
                "characters_validated",
                name="validate_characters",
            ),
            Node(
                validate_sub_data,
                ["sub_data", "characters_validated", "params:validation"],
                ["sub_data_validated", "impossible_sub_ids"],
                name="validate_sub_data",
            ),
            Node(
                validate_sub_miss,
                ["sub_miss", "sub_data_validated", "impossible_sub_ids"],
                ["sub_miss_validated", "rows_left_out"],
                name="validate_sub_miss",
            ),
            Node(
                mlflow_metrics,
                "rows_left_out",
                "validation_mlflow_metrics",
                name="track_rows_left_out",
            ),
            Node(
                validate_character_currency,
                ["character_currency", "characters_validated"],
                "currency_monthly",
                name="validate_character_currency",
            ),
            Node(
                build_subscription_features,
                ["characters_validated", "sub_data_validated"],
                "subscription_features",
                name="build_subscription_features",
            ),
            Node(
                build_churn_labels,
                [
                    "sub_data_validated",
                    "sub_miss_validated",
                    "currency_monthly",
                    "params:labels",
                ],
                "sub_churn_labels",
                name="build_churn_labels",
            ),
            Node(
                join_labels,
                ["subscription_features", "sub_churn_labels"],
                "sub_churn_primary",
                name="join_labels",
            ),
        ],
        tags=["features"],
    )
