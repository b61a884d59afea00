"""Project datasets that kedro-datasets does not provide."""

from __future__ import annotations

from typing import Any

import pandas as pd
from kedro_datasets.pandas import CSVDataset


class OptionalCSVDataset(CSVDataset):
    """A ``pandas.CSVDataset`` that loads an empty frame when its file does not exist.

    For side inputs that only some data sets have, such as the generator's true
    churn probabilities: real exports come without them and the run goes on.
    """

    def __init__(self, *, columns: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._columns = list(columns)

    def load(self) -> pd.DataFrame:
        if not self._exists():
            return pd.DataFrame(
                {column: pd.Series(dtype="float64") for column in self._columns}
            )
        return super().load()
