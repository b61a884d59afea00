"""Typed parameter blocks: a bad value stops the run before any node, naming its key.

``validate_parameters`` checks the blocks a pipeline reads (``params:<block>``
inputs) against these Pydantic models. Unknown keys are errors (a typo would
otherwise be silently ignored), windows must be in order, and every estimator or
transformer must be an allowlisted import path. Nodes keep receiving plain
dicts, as kedro-mlflow logs them.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TimeWindow(_Block):
    """Subscriptions starting in ``[date_start, date_end]``."""

    date_start: dt.date
    date_end: dt.date

    @model_validator(mode="after")
    def _in_order(self) -> TimeWindow:
        if self.date_start > self.date_end:
            raise ValueError(
                f"date_start {self.date_start} is after date_end {self.date_end}"
            )
        return self


class Step(_Block):
    """An estimator or transformer: an allowlisted import path and its keyword arguments."""

    type: str
    kwargs: dict[str, Any] | None = None

    @field_validator("type")
    @classmethod
    def _allowed(cls, path: str) -> str:
        # imported here: sklearn is loaded only when a pipeline reads a model
        from kedro_ml.core.model import ModelConfigError, load_object

        try:
            load_object(path)
        except ModelConfigError as exc:
            raise ValueError(str(exc)) from exc
        return path


class Search(_Block):
    kind: Literal["grid", "random"] = "grid"
    n_splits: int = 3
    scoring: str = "roc_auc"
    n_iter: int = 10
    param_grid: dict[str, list[Any]]


class Calibration(_Block):
    """Probability calibration on time-ordered folds (``CalibratedClassifierCV``)."""

    method: Literal["sigmoid", "isotonic"] = "sigmoid"
    folds: int = Field(3, ge=2)


class Estimator(Step):
    """An estimator, optionally with the preprocessing and calibration it needs."""

    preprocessing: dict[str, list[Step]] | None = None
    calibration: Calibration | None = None


class ModelBlock(_Block):
    features: dict[str, list[str]]
    preprocessing: dict[str, list[Step]] = {}
    estimator: str | Estimator
    estimators: dict[str, Estimator] = {}
    calibration: Calibration | None = None
    search: Search | None = None
    accept_leaky_features: list[str] = []

    @model_validator(mode="after")
    def _known_preset(self) -> ModelBlock:
        if isinstance(self.estimator, str) and self.estimator not in self.estimators:
            raise ValueError(
                f"estimator '{self.estimator}' is not one of model.estimators {sorted(self.estimators)}"
            )
        return self

    @model_validator(mode="after")
    def _no_extraction_time_columns(self) -> ModelBlock:
        from kedro_ml.core.features import EXTRACTION_TIME_FEATURES

        accepted = set(self.accept_leaky_features)
        leaky = sorted(
            {
                name
                for patterns in self.features.values()
                for name in EXTRACTION_TIME_FEATURES
                if any(fnmatch.fnmatchcase(name, p) for p in patterns)
            }
            - accepted
        )
        if leaky:
            raise ValueError(
                f"features select {leaky}: extraction-time columns hold what happened "
                "after each prediction time and leak it into training (data contract); "
                "remove them, or list them in model.accept_leaky_features to accept the risk"
            )
        return self


class TrainBlock(_Block):
    window: TimeWindow
    seed: int | None = None
    label_as_of: dt.date | None = None


class ScoreBlock(_Block):
    window: TimeWindow
    threshold: float
    importance: dict[str, Any]


class BatchPredictBlock(_Block):
    window: TimeWindow


class FeaturesBlock(_Block):
    windows_months: list[int]


class LabelsBlock(_Block):
    as_of: dt.date | None = None
    horizon_months: int | None = Field(None, ge=1)


class PromotionBlock(_Block):
    confidence: float = Field(gt=0, lt=1)
    min_gain: float = Field(ge=-1, le=1)


class MonitoringBlock(_Block):
    psi_threshold: float
    ks_threshold: float
    drift_share_threshold: float
    key_features: list[str] = []


class RetrainingBlock(_Block):
    pipelines: list[str]

    @field_validator("pipelines")
    @classmethod
    def _not_empty(cls, pipelines: list[str]) -> list[str]:
        if not pipelines:
            raise ValueError("name at least one pipeline to run")
        return pipelines


BLOCKS: dict[str, type[BaseModel]] = {
    "train": TrainBlock,
    "score": ScoreBlock,
    "batch_predict": BatchPredictBlock,
    "features": FeaturesBlock,
    "labels": LabelsBlock,
    "model": ModelBlock,
    "promotion": PromotionBlock,
    "monitoring": MonitoringBlock,
    "retraining": RetrainingBlock,
}


class ParameterError(ValueError):
    """Parameters that cannot run, with the keys at fault."""


def _where(block: str, loc: tuple) -> str:
    path = [
        block,
        *(
            str(part)
            for part in loc
            if not str(part).startswith(("function-", "union["))
        ),
    ]
    return ".".join(path)


def _backtest_problems(params: dict[str, Any]) -> list[str]:
    """Training may learn only labels known before the scored months start."""
    train = TrainBlock.model_validate(params["train"])
    score = ScoreBlock.model_validate(params["score"])
    problems = []
    if train.label_as_of is not None and train.label_as_of >= score.window.date_start:
        problems.append(
            f"train.label_as_of: {train.label_as_of} is not before score.window.date_start "
            f"{score.window.date_start}; training would learn labels the scored model "
            "could not have known"
        )
    if train.window.date_start >= score.window.date_start:
        problems.append(
            f"train.window: starts {train.window.date_start}, not before score.window "
            f"({score.window.date_start}); validation is out of time"
        )
    return problems


def validate_parameters(params: dict[str, Any], used: Iterable[str]) -> None:
    """Raise ``ParameterError`` naming every bad key of the ``used`` blocks."""
    problems = []
    for block in sorted(set(used) & set(BLOCKS)):
        if block not in params:
            problems.append(f"{block}: missing from the parameters")
            continue
        try:
            BLOCKS[block].model_validate(params[block])
        except ValidationError as exc:
            for error in exc.errors():
                problems.append(f"{_where(block, error['loc'])}: {error['msg']}")
    if not problems and {"train", "score"} <= set(used):
        problems += _backtest_problems(params)
    if problems:
        raise ParameterError(
            "Parameters that cannot run (fix them in conf/<env>/parameters_*.yml or --params):\n  - "
            + "\n  - ".join(problems)
        )
