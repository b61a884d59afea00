"""Typed parameter blocks: a bad value stops the run before any node, naming its key.

``validate_parameters`` checks every top-level key (a misspelt one is named
with the closest known key) and the blocks a pipeline reads (``params:<block>``
inputs) against these Pydantic models. Unknown keys are errors (a typo would
otherwise be silently ignored), numbers stay in their domain, months are first
days, windows are in order, and every estimator or transformer must be an
allowlisted sklearn class. Nodes keep receiving plain dicts, as kedro-mlflow
logs them.
"""

from __future__ import annotations

import datetime as dt
import difflib
import fnmatch
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

# NumPy and scikit-learn take seeds in 0 .. 2**32 - 1
SEED_MAX = 2**32 - 1


def _first_of_month(value: dt.date) -> dt.date:
    if value.day != 1:
        raise ValueError(f"{value} is not a month: months are first days (YYYY-MM-01)")
    return value


Month = Annotated[dt.date, AfterValidator(_first_of_month)]
Seed = Annotated[int, Field(ge=0, le=SEED_MAX)]
Share = Annotated[float, Field(ge=0, le=1)]


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TimeWindow(_Block):
    """Subscriptions starting in the months ``[date_start, date_end]``."""

    date_start: Month
    date_end: Month

    @model_validator(mode="after")
    def _in_order(self) -> TimeWindow:
        if self.date_start > self.date_end:
            raise ValueError(
                f"date_start {self.date_start} is after date_end {self.date_end}"
            )
        return self


def _allowed(path: str, role: str) -> str:
    # imported here: sklearn is loaded only when a pipeline reads a model
    from kedro_ml.core.model import ModelConfigError, load_object

    try:
        load_object(path, role)
    except ModelConfigError as exc:
        raise ValueError(str(exc)) from exc
    return path


class Step(_Block):
    """A transformer: an allowlisted import path and its keyword arguments."""

    type: str
    kwargs: dict[str, Any] | None = None

    @field_validator("type")
    @classmethod
    def _allowed(cls, path: str) -> str:
        return _allowed(path, "transformer")


class Search(_Block):
    kind: Literal["grid", "random"] = "grid"
    n_splits: int = Field(3, ge=2)
    scoring: str = "roc_auc"
    n_iter: int = Field(10, ge=1)
    param_grid: dict[str, list[Any]]

    @field_validator("scoring")
    @classmethod
    def _known_scorer(cls, scoring: str) -> str:
        from sklearn.metrics import get_scorer_names

        if scoring not in get_scorer_names():
            close = difflib.get_close_matches(scoring, get_scorer_names(), n=1)
            raise ValueError(
                f"'{scoring}' is not a scikit-learn scorer"
                + (f" (did you mean '{close[0]}'?)" if close else "")
            )
        return scoring


class Calibration(_Block):
    """Probability calibration on time-ordered folds (``CalibratedClassifierCV``)."""

    method: Literal["sigmoid", "isotonic"] = "sigmoid"
    folds: int = Field(3, ge=2)


class Estimator(_Block):
    """An estimator (a classifier), optionally with the preprocessing and calibration it needs."""

    type: str
    kwargs: dict[str, Any] | None = None
    preprocessing: dict[str, list[Step]] | None = None
    calibration: Calibration | None = None

    @field_validator("type")
    @classmethod
    def _allowed(cls, path: str) -> str:
        return _allowed(path, "estimator")


_PRESET, _INLINE = "preset", "inline"


class ModelBlock(_Block):
    features: dict[str, list[str]]
    preprocessing: dict[str, list[Step]] = {}
    # a preset's name, or an inline {type, kwargs}: errors name only the form given
    estimator: Annotated[
        Annotated[str, Tag(_PRESET)] | Annotated[Estimator, Tag(_INLINE)],
        Discriminator(lambda v: _PRESET if isinstance(v, str) else _INLINE),
    ]
    estimators: dict[str, Estimator] = {}
    calibration: Calibration | None = None
    search: Search | None = None
    accept_leaky_features: list[str] = []

    @model_validator(mode="after")
    def _known_preset(self) -> ModelBlock:
        if isinstance(self.estimator, str) and self.estimator not in self.estimators:
            close = difflib.get_close_matches(
                self.estimator, list(self.estimators), n=1
            )
            raise ValueError(
                f"model.estimator '{self.estimator}' is not one of model.estimators "
                f"{sorted(self.estimators)}"
                + (f" (did you mean '{close[0]}'?)" if close else "")
            )
        return self

    @model_validator(mode="after")
    def _gives_probabilities(self) -> ModelBlock:
        """The chosen estimator can give churn probabilities, checked before any fit."""
        from kedro_ml.core.model import ModelConfigError, build_step

        chosen = self.estimator
        where = "model.estimator"
        if isinstance(chosen, str):
            where, chosen = f"model.estimators.{chosen}", self.estimators[chosen]
        if chosen.calibration or self.calibration:
            return self  # calibration turns scores into probabilities
        spec = {"type": chosen.type, "kwargs": chosen.kwargs or {}}
        try:
            estimator = build_step(spec, role="estimator")
        except ModelConfigError as exc:
            raise ValueError(f"{where}.kwargs: {exc}") from exc
        if not hasattr(estimator, "predict_proba"):
            raise ValueError(
                f"{where} ({chosen.type}) gives no probabilities (no predict_proba "
                "with these kwargs): scoring, promotion and serving need them. Choose "
                "a classifier that has predict_proba, turn it on in its kwargs (SVC: "
                "probability: true), or add a calibration block"
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
    seed: Seed | None = None
    label_as_of: Month | None = None


class Importance(_Block):
    max_rows: int = Field(ge=1)
    n_repeats: int = Field(ge=1, le=100)
    seed: Seed


class ScoreBlock(_Block):
    window: TimeWindow
    threshold: Share
    importance: Importance


class BatchPredictBlock(_Block):
    window: TimeWindow


class FeaturesBlock(_Block):
    windows_months: list[Annotated[int, Field(ge=1, le=60)]] = Field(min_length=1)


class LabelsBlock(_Block):
    as_of: Month | None = None
    horizon_months: int | None = Field(None, ge=1, le=120)


class PromotionBlock(_Block):
    confidence: float = Field(gt=0, lt=1)
    min_gain: float = Field(ge=-1, le=1)
    min_represented_share: Share
    effect_of_interest: float = Field(gt=0, le=1)


class MonitoringBlock(_Block):
    psi_threshold: float = Field(gt=0)
    ks_threshold: float = Field(gt=0, le=1)
    drift_share_threshold: Share
    key_features: list[str] = []


class RetrainingBlock(_Block):
    pipelines: list[str]

    @field_validator("pipelines")
    @classmethod
    def _not_empty(cls, pipelines: list[str]) -> list[str]:
        if not pipelines:
            raise ValueError("name at least one pipeline to run")
        return pipelines


Positive = Annotated[float, Field(gt=0)]
Weights = dict[str, Annotated[float, Field(ge=0)]]


class Economy(_Block):
    months_before_first_month: int = Field(ge=0, le=240)
    subs_per_character: float = Field(ge=1)
    max_subs_per_character: int = Field(ge=1, le=100)
    sub_months_mix: dict[
        Annotated[int, Field(ge=1, le=120)], Annotated[float, Field(ge=0)]
    ]
    resubscribe_monthly_rate: float = Field(gt=0, le=1)
    leave_monthly_rate: float = Field(gt=0, le=1)
    sub_type_mix: Weights
    sub_sizes: list[Annotated[int, Field(ge=1)]] = Field(min_length=1)
    price_levels: list[Positive] = Field(min_length=1)
    reference_price_per_unit: Positive
    soft_per_hard: float = Field(ge=0)
    soft_earnings: Positive
    soft_spend_rate: float = Field(gt=0, lt=1)
    hard_spend_rate: float = Field(gt=0, lt=1)
    engagement_persistence: float = Field(ge=0, lt=1)
    engagement_sd: float = Field(ge=0, le=5)
    race_mix: Weights
    class_mix: Weights
    n_territories: int = Field(ge=1)
    mastery_odds: Positive
    mastery_monthly_rate: float = Field(gt=0, le=1)
    short_miss_rate: Share
    balance_null_rate: Share

    @field_validator("sub_type_mix")
    @classmethod
    def _contract_types(cls, mix: dict[str, float]) -> dict[str, float]:
        unknown = set(mix) - {"hard", "soft", "balanced"}
        if unknown or not sum(mix.values()):
            raise ValueError(
                f"sub types are hard, soft and balanced with some weight (got {mix})"
            )
        return mix


class Churn(_Block):
    base_logit: float
    price_per_unit: float
    sub_type: dict[Literal["hard", "soft", "balanced"], float]
    play_trend: float
    character_age: float
    mastered: float
    repeat_subscriber: float
    noise_sd: float = Field(ge=0)


class ChurnChange(_Block):
    """Churn coefficients that change at the drift month (any subset of ``Churn``'s)."""

    base_logit: float | None = None
    price_per_unit: float | None = None
    sub_type: dict[Literal["hard", "soft", "balanced"], float] | None = None
    play_trend: float | None = None
    character_age: float | None = None
    mastered: float | None = None
    repeat_subscriber: float | None = None


class Drift(_Block):
    enabled: bool
    from_month: Month
    price_multiplier: Positive
    play_earnings_multiplier: float = Field(ge=0)
    sub_type_mix: Weights | None = None
    churn: ChurnChange | None = None


class SynthesizeBlock(_Block):
    seed: Seed
    n_characters: int = Field(ge=1, le=100_000_000)
    first_month: Month
    last_month: Month
    economy: Economy
    churn: Churn
    drift: Drift
    # replace files git tracks (the committed sample) on purpose
    overwrite_tracked: bool = False

    @model_validator(mode="after")
    def _months_in_order(self) -> SynthesizeBlock:
        if self.last_month <= self.first_month:
            raise ValueError(
                f"last_month {self.last_month} must come after first_month {self.first_month}"
            )
        if self.last_month > dt.date.today():
            raise ValueError(f"last_month {self.last_month} is in the future")
        return self


class ReplayBlock(_Block):
    train_months: int = Field(ge=1, le=120)
    score_months: int = Field(ge=1, le=24)
    # a label settles at S + H + 1 with H >= 1: nothing starting later than
    # two months before the labels' month has one
    score_lag_months: int = Field(ge=2, le=24)


class OnlineStoreBlock(_Block):
    as_of: Month | None = None


class ValidationBlock(_Block):
    impossible_rows: Literal["error", "drop"] = "error"


class Candidate(_Block):
    """A candidate of ``kedro experiment``: changes to the model block (checked whole later)."""

    model: dict[str, Any] = {}
    without_groups: list[str] = []
    search: Search | None = None
    description: str | None = None


class ExperimentsBlock(_Block):
    candidates: dict[str, Candidate | None] = Field(min_length=1)


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
    "synthesize": SynthesizeBlock,
    "validation": ValidationBlock,
    "online_store": OnlineStoreBlock,
    "replay": ReplayBlock,
    "experiments": ExperimentsBlock,
}
# Top-level keys that are not blocks: the game (from globals), and the source of
# the champion for batch prediction (a runtime parameter the catalog reads)
SCALARS = ("game", "model_source")


class ParameterError(ValueError):
    """Parameters that cannot run, with the keys at fault."""


def _where(block: str, loc: tuple) -> str:
    path = [
        block,
        *(
            str(part)
            for part in loc
            if not str(part).startswith(("function-", "union["))
            and part not in (_PRESET, _INLINE)
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


def _scalar_problems(params: dict[str, Any]) -> list[str]:
    source = params.get("model_source", "registry")
    if source not in ("registry", "local"):
        return [f"model_source: must be registry or local, got {source!r}"]
    return []


def _unknown_top_level(params: dict[str, Any]) -> list[str]:
    known = [*BLOCKS, *SCALARS]
    problems = []
    for key in sorted(set(params) - set(known)):
        close = difflib.get_close_matches(key, known, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f"; known keys: {known}"
        problems.append(f"{key}: not a parameter block of this project{hint}")
    return problems


def validate_parameters(params: dict[str, Any], used: Iterable[str]) -> None:
    """Raise ``ParameterError`` naming every unknown top-level key and bad key of ``used`` blocks."""
    problems = _unknown_top_level(params) + _scalar_problems(params)
    for block in sorted(set(used) & set(BLOCKS)):
        if block not in params:
            problems.append(f"{block}: missing from the parameters")
            continue
        try:
            BLOCKS[block].model_validate(params[block])
        except ValidationError as exc:
            for error in exc.errors():
                message = error["msg"].removeprefix("Value error, ")
                problems.append(f"{_where(block, error['loc'])}: {message}")
    if not problems and {"train", "score"} <= set(used):
        problems += _backtest_problems(params)
    if problems:
        raise ParameterError(
            "Parameters that cannot run (fix them in conf/<env>/parameters_*.yml or --params):\n  - "
            + "\n  - ".join(problems)
        )
