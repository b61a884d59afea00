"""``kedro experiment``: every candidate of ``experiments.candidates``, one feature build, one parent run.

1. The candidates are checked whole (``kedro_ml.core.experiments``) before
   anything runs.
2. One Kedro run builds the features once: the standard features, the
   training window with its labels as of the cutoff, the score window
   (``train.window``, ``score.window``: the same for every candidate).
3. Each candidate is fitted on the training window and scored on the score
   window, as ``sub_churn_train`` and ``sub_churn_score`` do (the same
   nodes), and compared with the champion as ``sub_churn_promote`` would
   (the promotion rule's paired interval). Each is a child run of the
   experiment's run, with its model logged once; a candidate's search logs
   every combination as a child of the candidate.
4. The table and picture go to ``08_reporting/experiments/`` and to the
   parent run; the command's summary ranks them.

Nothing is registered or promoted here: ``promote_candidate`` sends one
candidate through the usual ``sub_churn_train``, ``sub_churn_score`` and
``sub_churn_promote``, whose rule decides.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from kedro.framework.project import pipelines
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from mlflow import MlflowClient

from kedro_ml.core.experiments import (
    CANDIDATES_HEADING,
    calibration_curve_points,
    candidate_models,
    candidate_overrides,
    comparison_figure,
    ranked,
)
from kedro_ml.core.model import TARGET, build_model, split_xy
from kedro_ml.core.params import ParameterError, validate_parameters
from kedro_ml.core.promotion import auc_interval
from kedro_ml.core.seeding import resolve_seed
from kedro_ml.framework.catalog import dataset_filepath
from kedro_ml.orchestration.timeline import experiment_id, log_metrics, tracked_run
from kedro_ml.runtime import not_in_ipython

logger = logging.getLogger(__name__)

COMMAND = "experiment"
FEATURE_PIPELINES = (
    "sub_churn_standard_features",
    "sub_churn_train",
    "sub_churn_score",
)


def _feature_nodes() -> list[str]:
    """The nodes that build what every candidate shares: features, labelled windows."""
    names = [n.name for n in pipelines["sub_churn_standard_features"].nodes]
    names += [
        n.name
        for n in pipelines["sub_churn_train"].nodes
        if n.namespace == "train" or n.name == "label_training_rows"
    ]
    names += [
        n.name for n in pipelines["sub_churn_score"].nodes if n.namespace == "score"
    ]
    return names


def _model_bytes(model: Any) -> int:
    """The size of the model as the project stores it (skops)."""
    import skops.io

    return len(skops.io.dumps(model))


def _check_search_keys(name: str, model: dict, train_table: pd.DataFrame) -> None:
    """A search's grid names parameters the candidate's pipeline has, before any fit."""
    search = model.get("search")
    if not search:
        return
    labelled = train_table[train_table[TARGET].notna()]
    x, _ = split_xy(labelled.drop(columns="label_state").head(1))
    known = build_model(model, list(x.columns)).get_params()
    unknown = [key for key in search["param_grid"] if key not in known]
    if unknown:
        import difflib

        hints = []
        for key in unknown:
            close = difflib.get_close_matches(key, list(known), n=1)
            hints.append(f"{key}" + (f" (did you mean '{close[0]}'?)" if close else ""))
        raise ParameterError(
            f"{CANDIDATES_HEADING}\n  - experiments.candidates.{name}.search.param_grid: "
            f"{', '.join(hints)} not a parameter of the candidate's pipeline"
        )


class _Experiment:
    """The shared inputs of one experiment and how to score a candidate on them."""

    def __init__(self, project_path: Path, env: str | None, only: Sequence[str]):
        bootstrap_project(project_path)
        self.project_path, self.env = project_path, env
        with KedroSession.create(project_path=project_path, env=env) as session:
            context = session.load_context()  # sets up tracking (kedro-mlflow)
            self.params, self.catalog = context.params, context.catalog
            self.experiment = experiment_id(context)
        validate_parameters(
            self.params, ["model", "train", "score", "promotion", "features"]
        )
        self.models = candidate_models(self.params, only)
        self.game = self.params["game"]
        self.seed = resolve_seed(self.params["train"]["seed"])

    def build_features(self, parent: str) -> None:
        """One Kedro run: the features and labelled windows every candidate shares."""
        # a run of its own, linked both ways by tags: the parent's children are
        # the candidates alone
        with KedroSession.create(
            project_path=self.project_path, env=self.env
        ) as session:
            session.run(
                pipeline_names=list(FEATURE_PIPELINES), node_names=_feature_nodes()
            )
        built = mlflow.last_active_run()
        if built is not None:
            client = MlflowClient()
            client.set_tag(built.info.run_id, "kedro_ml.experiment_run", parent)
            client.set_tag(parent, "kedro_ml.features_run", built.info.run_id)
        self.train_table = self.catalog.load("train_table")
        self.score_features = self.catalog.load("score_features")
        self.truth = self.catalog.load("sub_churn_truth")
        self.champion = self.catalog.load("current_champion")
        for name, model in self.models.items():
            _check_search_keys(name, model, self.train_table)

    def candidate(self, parent: str, name: str, model: dict) -> dict[str, Any]:
        """Fit, score and compare one candidate as a child run of ``parent``: its table row."""
        from kedro_ml.pipelines.sub_churn_promote.nodes import (
            compare_with_champion,
            decide_promotion,
        )
        from kedro_ml.pipelines.sub_churn_score.nodes import (
            evaluate_scores,
            predict_scores,
        )
        from kedro_ml.pipelines.sub_churn_train.nodes import (
            fit_model,
            model_for_tracking,
        )

        spec = self.params["experiments"]["candidates"][name] or {}
        tags = {
            "pipeline": COMMAND,
            "game": self.game,
            "kedro_ml.candidate": name,
            "mlflow.note.content": spec.get("description") or "",
        }
        changes = candidate_overrides(spec, list(self.params["model"]["features"]))
        flat = _flatten({"model": changes}) or {"model": "as configured"}
        with tracked_run(self.experiment, name, tags, flat, parent=parent) as run:
            started = time.perf_counter()
            model_fitted, searcher = fit_model(
                self.train_table,
                model,
                self.params["features"]["windows_months"],
                self.seed,
            )
            fit_seconds = time.perf_counter() - started
            started = time.perf_counter()
            predictions = predict_scores(model_fitted, self.score_features)
            predict_seconds = time.perf_counter() - started
            metrics, _ = evaluate_scores(
                predictions, self.truth, self.params["score"]["threshold"], self.game
            )
            promotion = self.params["promotion"]
            comparison = compare_with_champion(
                self.champion,
                predictions,
                self.score_features,
                float(promotion["confidence"]),
            )
            decision = decide_promotion(metrics, comparison, promotion)
            labelled = predictions[predictions[TARGET].notna()]
            y = labelled[TARGET].to_numpy(dtype=int)
            proba = labelled["sub_churn_pred"].to_numpy(dtype=float)
            auc, low, high = auc_interval(y, proba)
            has_champion = comparison.get("champion_model_id") is not None
            oracle = metrics.get("oracle_roc_auc")
            row = {
                "candidate": name,
                "roc_auc": auc,
                "roc_auc_low": low,
                "roc_auc_high": high,
                "pr_auc": metrics.get("pr_auc"),
                "ece": metrics.get("ece"),
                "oracle_gap": None if oracle is None else oracle - auc,
                "difference_vs_champion": comparison.get("roc_auc_difference"),
                "difference_low": comparison.get("difference_low"),
                "difference_high": comparison.get("difference_high"),
                "beats_champion": bool(decision["promote"]) if has_champion else None,
                "n_scored": int(metrics["n_scored"]),
                "fit_seconds": round(fit_seconds, 3),
                "predict_seconds": round(predict_seconds, 3),
                "model_bytes": _model_bytes(model_fitted),
                "model_id": model_fitted.model_id_,
                "mlflow_run_id": run,
                "reason": decision["reason"],
                # the champion's on the same rows, weighted as the rule weighs them
                "champion_roc_auc": comparison.get("champion_roc_auc"),
            }
            numbers = {
                k: v
                for k, v in row.items()
                if isinstance(v, int | float)
                and not isinstance(v, bool)
                and k != "champion_roc_auc"
            }
            if row["beats_champion"] is not None:
                numbers["beats_champion"] = float(row["beats_champion"])
            log_metrics(run, numbers)
            MlflowClient().set_tag(run, "model_id", model_fitted.model_id_)
            with not_in_ipython(), mlflow.start_run(run_id=run):
                # the model, logged once, as training logs it (kedro_ml.datasets.mlflow_models)
                self.catalog.save(
                    "sub_churn_logged_model",
                    model_for_tracking(model_fitted, self.train_table),
                )
            if searcher is not None:
                self._search_runs(run, name, searcher)
        self.curves[name] = calibration_curve_points(y, proba)
        return row

    def _search_runs(self, parent: str, name: str, searcher: Any) -> None:
        """Every combination of a candidate's search, a child run of the candidate."""
        results = searcher.cv_results_
        scoring = searcher.scoring
        for i, combination in enumerate(results["params"]):
            tags = {"pipeline": COMMAND, "game": self.game, "kedro_ml.candidate": name}
            label = ", ".join(
                f"{k.split('__')[-1]}={v}" for k, v in combination.items()
            )
            params = {k: v for k, v in combination.items()}
            with tracked_run(
                self.experiment, f"{name} · {label}", tags, params, parent=parent
            ) as run:
                log_metrics(
                    run,
                    {
                        f"cv_{scoring}_mean": float(results["mean_test_score"][i]),
                        f"cv_{scoring}_std": float(results["std_test_score"][i]),
                        "cv_rank": float(results["rank_test_score"][i]),
                        "cv_fit_seconds": float(results["mean_fit_time"][i]),
                    },
                )

    curves: dict[str, tuple[np.ndarray, np.ndarray]]


def _flatten(values: dict, prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def run_experiment(
    project_path: Path,
    env: str | None = None,
    only: Sequence[str] = (),
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Train, score and compare the candidates; returns the table, the parent run and the outputs."""
    say = progress or logger.info
    state = _Experiment(Path(project_path), env, only)
    state.curves = {}
    names = list(state.models)
    tags = {"pipeline": COMMAND, "game": state.game, "kedro_env": env or "local"}
    params = {
        "train.window": str(state.params["train"]["window"]),
        "score.window": str(state.params["score"]["window"]),
        "seed": state.seed,
        "candidates": ", ".join(names),
    }
    started = time.perf_counter()
    rows = []
    run_name = f"experiment · {state.game} · {len(names)} candidates"
    with tracked_run(state.experiment, run_name, tags, params) as parent:
        say(f"Features: one build for {len(names)} candidates")
        state.build_features(parent)
        features_seconds = time.perf_counter() - started
        for i, (name, model) in enumerate(state.models.items(), start=1):
            row = state.candidate(parent, name, model)
            rows.append(row)
            say(
                f"candidate {i}/{len(names)} {name}: ROC-AUC {row['roc_auc']:.4f} "
                f"[{row['roc_auc_low']:.4f}, {row['roc_auc_high']:.4f}], fit {row['fit_seconds']:.1f} s"
            )
        table = ranked(rows)
        champion = state.champion
        champion_auc = None
        if (
            champion is not None
            and rows
            and rows[0].get("difference_vs_champion") is not None
        ):
            champion_auc = rows[0]["roc_auc"] - rows[0]["difference_vs_champion"]
        figure = comparison_figure(table, state.curves, champion_auc)
        outputs = state.catalog
        outputs.save("experiment_table", table)
        outputs.save(
            "experiment_results", _results(table, rows, state, parent, champion_auc)
        )
        outputs.save("experiment_plot", figure)
        client = MlflowClient()
        for name in ("experiment_table", "experiment_results"):
            client.log_artifact(
                parent, str(dataset_filepath(outputs, name)), "experiment"
            )
        client.log_figure(parent, figure, "experiment/comparison.png")
        seconds = time.perf_counter() - started
        log_metrics(
            parent,
            {
                "features_seconds": features_seconds,
                "seconds": seconds,
                "candidates": len(rows),
            },
        )
    return {
        "table": table,
        "rows": rows,
        "mlflow_run_id": parent,
        "champion": None if champion is None else champion.version,
        "champion_roc_auc": champion_auc,
        "seconds": seconds,
        "features_seconds": features_seconds,
        "outputs": {
            name: str(dataset_filepath(state.catalog, name))
            for name in ("experiment_table", "experiment_results", "experiment_plot")
        },
    }


def _results(table, rows, state, parent, champion_auc) -> dict:
    reasons = {row["candidate"]: row["reason"] for row in rows}
    records = table.astype(object).where(table.notna(), None).to_dict("records")
    for record in records:
        record["promotion_reason"] = reasons[record["candidate"]]
    return {
        "game": state.game,
        "mlflow_run_id": parent,
        "train_window": dict(state.params["train"]["window"]),
        "score_window": dict(state.params["score"]["window"]),
        "seed": state.seed,
        "champion_version": None if state.champion is None else state.champion.version,
        "champion_roc_auc": champion_auc,
        "candidates": records,
    }


def promote_candidate(
    project_path: Path, name: str, env: str | None = None
) -> dict[str, Any]:
    """Train, score and promote candidate ``name`` through the usual pipelines: the decision.

    The candidate's changes to the model block are runtime parameters of one
    Kedro run of ``sub_churn_train``, ``sub_churn_score`` and
    ``sub_churn_promote``; the promotion rule decides, as for every model.
    """
    bootstrap_project(project_path)
    with KedroSession.create(project_path=project_path, env=env) as session:
        params = session.load_context().params
    candidate_models(params, [name])  # checked, or stopped naming the key
    spec = params["experiments"]["candidates"][name] or {}
    changes = candidate_overrides(spec, list(params["model"]["features"]))
    runtime = {"model": changes} if changes else {}
    with KedroSession.create(
        project_path=project_path, env=env, runtime_params=runtime
    ) as session:
        session.run(
            pipeline_names=[
                "sub_churn_standard_features",
                "sub_churn_train",
                "sub_churn_score",
                "sub_churn_promote",
            ]
        )
        catalog = session.load_context().catalog
        return dict(catalog.load("promotion_decision"))
