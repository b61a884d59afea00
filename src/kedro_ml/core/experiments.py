"""Experiments: named candidate models from configuration, checked, ranked and drawn.

A candidate (``experiments.candidates.<name>`` in ``parameters_experiments.yml``)
is the game's ``model`` block with changes:

* ``model``: keys of the model block to replace (``estimator: random_forest``,
  ``calibration: ...``, a preset's ``kwargs``...), merged as Kedro merges
  ``--params``: mappings key by key, anything else replaced whole;
* ``without_groups``: feature groups left out (their columns are not read);
* ``search``: a hyperparameter search over time-ordered folds (the model
  block's ``search``), every combination of which is reported.

``candidate_overrides`` is what a candidate changes, as runtime parameters:
training it through the usual pipelines (``kedro experiment --promote``)
gives the same model as the experiment did.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from kedro_ml.core.params import ParameterError, validate_parameters

CANDIDATES_HEADING = (
    "Candidates that cannot run (fix them in conf/<env>/parameters_experiments.yml); "
    "nothing was trained:"
)
# the columns of the comparison table, in order
TABLE_COLUMNS = (
    "rank",
    "candidate",
    "roc_auc",
    "roc_auc_low",
    "roc_auc_high",
    "pr_auc",
    "ece",
    "oracle_gap",
    "difference_vs_champion",
    "difference_low",
    "difference_high",
    "beats_champion",
    "n_scored",
    "fit_seconds",
    "predict_seconds",
    "model_bytes",
    "model_id",
    "mlflow_run_id",
)


def _merge(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes``: mappings merged key by key, other values replaced whole."""
    merged = copy.deepcopy(dict(base))
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def candidate_overrides(
    candidate: Mapping[str, Any], groups: Sequence[str]
) -> dict[str, Any]:
    """What ``candidate`` changes in the model block, as a partial ``model`` block."""
    changes = copy.deepcopy(dict(candidate.get("model") or {}))
    for group in candidate.get("without_groups") or []:
        if group not in groups:
            raise KeyError(group)
        changes.setdefault("features", {})[group] = []
        changes.setdefault("preprocessing", {})[group] = []
    if candidate.get("search"):
        changes["search"] = copy.deepcopy(dict(candidate["search"]))
    return changes


def candidate_models(
    params: Mapping[str, Any], only: Sequence[str] = ()
) -> dict[str, dict[str, Any]]:
    """Each candidate's whole model block, every one checked before anything is trained.

    Raises ``ParameterError`` naming each candidate and key at fault: an
    unknown candidate key, a feature group the model does not have, an
    estimator outside the allowlist, a misspelt keyword argument.
    """
    try:
        validate_parameters(dict(params), ["experiments"])
    except ParameterError as error:
        problems = str(error).splitlines()[1:]  # the lines after the heading
        raise ParameterError("\n".join([CANDIDATES_HEADING, *problems])) from None
    candidates = params["experiments"]["candidates"]
    unknown = [name for name in only if name not in candidates]
    if unknown:
        raise ParameterError(
            f"--only {', '.join(unknown)}: not a candidate of experiments.candidates "
            f"({', '.join(candidates)})"
        )
    base = params["model"]
    models, problems = {}, []
    for name, candidate in candidates.items():
        if only and name not in only:
            continue
        where = f"experiments.candidates.{name}"
        try:
            changes = candidate_overrides(candidate or {}, list(base["features"]))
        except KeyError as missing:
            problems.append(
                f"{where}.without_groups: {missing} is not a feature group of the "
                f"model ({', '.join(base['features'])})"
            )
            continue
        model = _merge(base, changes)
        try:
            validate_parameters({"model": model}, ["model"])
        except ParameterError as error:
            for line in str(error).splitlines()[1:]:
                problems.append(f"{where}: {line.strip().removeprefix('- ')}")
            continue
        models[name] = model
    if problems:
        raise ParameterError(CANDIDATES_HEADING + "\n  - " + "\n  - ".join(problems))
    return models


def ranked(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The comparison table: the candidates by out-of-time ROC-AUC, best first."""
    table = pd.DataFrame(list(rows))
    for column in TABLE_COLUMNS:
        if column not in table:
            table[column] = None
    table = table.sort_values(
        "roc_auc", ascending=False, kind="stable", na_position="last"
    )
    table["rank"] = range(1, len(table) + 1)
    return table[list(TABLE_COLUMNS)].reset_index(drop=True)


def _finite(value: Any) -> bool:
    return value is not None and isinstance(value, int | float) and math.isfinite(value)


def comparison_figure(
    table: pd.DataFrame,
    curves: Mapping[str, tuple[np.ndarray, np.ndarray]],
    champion_roc_auc: float | None,
    top: int = 3,
) -> Figure:
    """ROC-AUC with its interval per candidate, and the calibration curves of the ``top`` best."""
    figure = Figure(figsize=(11, 4.2))
    axes_auc, axes_cal = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1.2, 1]})
    names = list(table["candidate"])[::-1]  # best on top
    rows = table.set_index("candidate")
    for y, name in enumerate(names):
        row = rows.loc[name]
        colour = "#2ca02c" if row["beats_champion"] is True else "#1f77b4"
        if _finite(row["roc_auc_low"]) and _finite(row["roc_auc_high"]):
            axes_auc.plot(
                [row["roc_auc_low"], row["roc_auc_high"]], [y, y], color=colour, lw=2
            )
        axes_auc.plot([row["roc_auc"]], [y], "o", color=colour)
    if champion_roc_auc is not None:
        axes_auc.axvline(champion_roc_auc, color="#d62728", ls="--", label="champion")
        axes_auc.legend(loc="lower right", fontsize=8)
    axes_auc.set_yticks(range(len(names)), names, fontsize=8)
    axes_auc.set_xlabel("out-of-time ROC-AUC (95% interval)")
    axes_auc.set_title("Candidates on the score window", fontsize=10)
    axes_auc.grid(axis="x", alpha=0.3)
    axes_cal.plot([0, 1], [0, 1], color="#999", ls=":", lw=1)
    for name in list(table["candidate"])[:top]:
        if name in curves:
            predicted, observed = curves[name]
            axes_cal.plot(predicted, observed, "o-", ms=3, label=name)
    axes_cal.set_xlabel("predicted churn probability")
    axes_cal.set_ylabel("observed churn rate")
    axes_cal.set_title(f"Calibration of the top {min(top, len(table))}", fontsize=10)
    axes_cal.legend(fontsize=8)
    figure.tight_layout()
    return figure


def calibration_curve_points(
    y: np.ndarray, proba: np.ndarray, bins: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """Mean predicted and observed churn per probability decile, as the score's calibration plot draws it."""
    from sklearn.calibration import calibration_curve

    observed, predicted = calibration_curve(y, proba, n_bins=bins, strategy="quantile")
    return predicted, observed
