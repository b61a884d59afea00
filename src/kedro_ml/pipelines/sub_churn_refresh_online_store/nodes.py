"""Nodes of the online store pipeline."""

from __future__ import annotations

import datetime as dt
import logging

import pandas as pd

from kedro_ml.core.labels import last_month
from kedro_ml.core.model import ModelVersion
from kedro_ml.core.online import check_store_month, store_tables

logger = logging.getLogger(__name__)


def build_online_store(
    characters: pd.DataFrame,
    subscription_features: pd.DataFrame,
    currency: pd.DataFrame,
    online_store: dict,
    windows_months: list[int],
    game: str,
    champion: ModelVersion,
) -> dict:
    """The online store's tables as of ``online_store.as_of``, and what it is.

    By default the store is as of the month after the last month of data:
    the month whose new subscriptions the online model answers. The store
    records its game and the champion it was refreshed for: a server of
    another game or another model refuses it (``kedro_ml.serving``).
    """
    last = last_month(currency)
    if online_store.get("as_of"):
        as_of = pd.Timestamp(online_store["as_of"])
    else:
        as_of = (last.to_period("M") + 1).to_timestamp()
    check_store_month(as_of, last, pd.Timestamp(dt.date.today()))
    tables = store_tables(
        characters, subscription_features, currency, as_of, windows_months
    )
    logger.info(
        "Online store as of %s: templates of %d characters, %d features each",
        as_of.date(),
        len(tables["templates"]),
        tables["templates"].shape[1] - 1,
    )
    meta = {
        "as_of": str(as_of.date()),
        "windows_months": [int(w) for w in windows_months],
        "game": game,
        "model_id": champion.model_id,
        "model_source": champion.source,
        "written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    return {"tables": tables, "meta": meta}
