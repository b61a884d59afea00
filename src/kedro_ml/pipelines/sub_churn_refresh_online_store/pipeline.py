"""Pipeline ``sub_churn_refresh_online_store``: the online store from the feature store."""

from kedro.pipeline import Node, Pipeline

from .nodes import build_online_store


def create_pipeline(**kwargs) -> Pipeline:
    """Write, per character, what the online model needs as of ``online_store.as_of``.

    The store is written for the champion (the registry's, or the newest local
    one with ``--params=model_source=local``): refresh it after each promotion.
    """
    return Pipeline(
        [
            Node(
                build_online_store,
                [
                    "characters_validated",
                    "subscription_features",
                    "currency_monthly",
                    "params:online_store",
                    "params:features.windows_months",
                    "params:game",
                    "champion_model@pyfunc",
                ],
                "online_store",
                name="build_online_store",
            )
        ],
        tags=["online"],
    )
