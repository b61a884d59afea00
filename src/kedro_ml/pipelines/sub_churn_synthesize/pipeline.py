"""Pipeline ``sub_churn_synthesize``: writes the four raw tables and the truth side file."""

from kedro.pipeline import Node, Pipeline

from .nodes import synthesize_raw_tables


def create_pipeline(**kwargs) -> Pipeline:
    """Generate the raw tables of the catalog from ``params:synthesize``."""
    return Pipeline(
        [
            Node(
                func=synthesize_raw_tables,
                inputs="params:synthesize",
                outputs=[
                    "characters",
                    "sub_data",
                    "sub_miss",
                    "character_currency",
                    "sub_churn_truth",
                ],
                name="synthesize_raw_tables",
            )
        ],
        tags=["synthesize"],
    )
