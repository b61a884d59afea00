"""Pipeline template ``window_features`` and its instantiation per stage."""

from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline

from .nodes import add_currency_features, select_subscriptions


def create_pipeline(window_key: str = "window", **kwargs) -> Pipeline:
    """The template: ``subscriptions`` in ``params:window``, with currency ``features``.

    ``window_key`` is how errors name the window (``train.window``...).
    """
    select = update_wrapper(
        partial(select_subscriptions, key=window_key), select_subscriptions
    )
    return Pipeline(
        [
            Node(
                select,
                ["subscriptions", "params:window"],
                "window_subscriptions",
                name="select_subscriptions",
            ),
            Node(
                add_currency_features,
                [
                    "window_subscriptions",
                    "currency_monthly",
                    "params:features.windows_months",
                ],
                "features",
                name="build_features",
            ),
        ]
    )


def window_features(stage: str, subscriptions: str) -> Pipeline:
    """The template for one stage: ``params:<stage>.window`` of ``subscriptions``.

    Its nodes are ``<stage>.select_subscriptions`` and ``<stage>.build_features``;
    the result is the catalog's ``<stage>_features``.
    """
    return Pipeline(
        create_pipeline(window_key=f"{stage}.window"),
        namespace=stage,
        inputs={"subscriptions": subscriptions, "currency_monthly": "currency_monthly"},
        outputs={"features": f"{stage}_features"},
        parameters={
            "params:window": f"params:{stage}.window",
            "params:features.windows_months": "params:features.windows_months",
        },
    )
