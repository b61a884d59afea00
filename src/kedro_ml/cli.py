"""Project commands, added to ``kedro`` (``kedro retrain-if-drifted --help``).

``run`` is Kedro's own ``kedro run`` with the process tuned first
(``kedro_ml.runtime.tune_process``): Kedro takes a project's ``run`` over its
own, and ``python -m kedro_ml`` looks for it here. Every command here is an
entry point of the project's processes, so each tunes the process first.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import Any

import click
from kedro.framework.cli.project import run as kedro_run
from kedro.framework.cli.utils import env_option, validate_conf_source

from kedro_ml.runtime import tune_process

__all__ = ["cli", "run"]

CONF_SOURCE_HELP = "Path of a configuration folder or archive to use instead of conf/."


def _tuned(callback: Callable[..., Any]) -> Callable[..., Any]:
    """``callback`` with the process tuned before it runs, and its errors told as messages.

    An error the project raises on purpose ends the command with its message
    (``Error: ...``, exit code 1) and no traceback (``kedro_ml.errors``);
    ``KEDRO_ML_TRACEBACK=1`` shows the traceback too, and a bug always does.
    """

    @functools.wraps(callback)
    def tuned(*args: Any, **kwargs: Any) -> Any:
        tune_process()
        try:
            return callback(*args, **kwargs)
        except click.ClickException:
            raise
        except Exception as error:
            from kedro_ml.errors import TRACEBACK_ENV, message, tracebacks_wanted

            text = message(error)
            if text is None or tracebacks_wanted():
                raise
            raise click.ClickException(
                f"{text}\n({TRACEBACK_ENV}=1 shows where it was raised)"
            ) from None

    return tuned


def _tuned_command(command: click.Command) -> click.Command:
    """A copy of ``command`` (same name, options and help) that tunes the process first."""
    tuned = copy.copy(command)
    tuned.callback = _tuned(command.callback)
    return tuned


@click.group(name="kedro_ml")
def cli() -> None:
    """Commands of the kedro_ml project."""


run = _tuned_command(kedro_run)
cli.add_command(run)


@cli.command("retrain-if-drifted")
@env_option
@click.option(
    "--conf-source", callback=validate_conf_source, default=None, help=CONF_SOURCE_HELP
)
@click.pass_obj
@_tuned
def retrain_if_drifted(metadata, env: str | None, conf_source: str | None) -> None:
    """Retrain, score and promote only when the last drift report recommends it.

    The decision and, when it retrains, the retraining run are tracked in
    MLflow; data/08_reporting/retraining_report.json says what happened.
    """
    from kedro_ml.orchestration.retraining import retrain_if_drifted as retrain

    report = retrain(metadata.project_path, env=env, conf_source=conf_source)
    reasons = "; ".join(report["reasons"]) or "no reason given"
    if report["retrained"]:
        click.echo(
            f"Retrained ({reasons}): {', '.join(report['pipelines'])} ran as MLflow "
            f"run {report['run_id']}."
        )
    else:
        click.echo(f"No retraining needed ({reasons}).")


def _month_option(flag: str, name: str, which: str):
    return click.option(
        flag,
        name,
        required=True,
        type=click.DateTime(formats=["%Y-%m-%d"]),
        help=f"{which} month to replay (YYYY-MM-01).",
    )


@cli.command("replay")
@env_option
@_month_option("--from", "first", "First")
@_month_option("--to", "last", "Last")
@click.option(
    "--verbose",
    is_flag=True,
    help="Also print what each month's Kedro runs print (their nodes and summaries).",
)
@click.pass_obj
@_tuned
def replay(metadata, env: str | None, first, last, verbose: bool) -> None:
    """Replay the loop month by month: batch predict, score, drift, retrain, promote.

    Each month runs at its close, on the raw rows dated in it or before. The
    timeline is written
    to data/08_reporting/replay/timeline.json and timeline.png (under the
    game's data root) and logged to one MLflow run, with a child run per month.
    """
    from kedro_ml.orchestration.replay import ReplayError
    from kedro_ml.orchestration.replay import replay as run_replay

    for name, value in (("--from", first), ("--to", last)):
        if value.day != 1:
            raise click.BadParameter(
                f"{value:%Y-%m-%d} is not a month: give its first day", param_hint=name
            )
    if last < first:
        raise click.BadParameter(
            f"--to {last:%Y-%m-%d} comes before --from {first:%Y-%m-%d}",
            param_hint="--to",
        )
    from kedro_ml.runtime import quiet_runs

    try:
        with quiet_runs(not verbose):
            timeline = run_replay(
                metadata.project_path,
                f"{first:%Y-%m-%d}",
                f"{last:%Y-%m-%d}",
                env=env,
                progress=click.echo,
            )
    except ReplayError as exc:
        raise click.ClickException(str(exc)) from exc
    from pathlib import Path

    from kedro_ml.framework.catalog import shown_path

    months = timeline["months"]
    retrained = [m["month"][:7] for m in months if m["retrained"]]
    promoted = [m["month"][:7] for m in months if m["promoted"]]
    for warning in timeline["warnings"]:
        click.echo(f"Warning: {warning}")
    click.echo(
        f"Replayed {len(months)} month{'s' if len(months) != 1 else ''} in "
        f"{timeline['seconds']:.0f} s: retrained in "
        f"{', '.join(retrained) or 'no month'}; promoted in {', '.join(promoted) or 'no month'}. "
        f"Timeline: {shown_path(Path(timeline['outputs']['json']))} and "
        f"{shown_path(Path(timeline['outputs']['png']))} "
        f"(MLflow run {timeline['mlflow_run_id']})."
    )


@cli.command("operate")
@env_option
@click.option(
    "--conf-source", callback=validate_conf_source, default=None, help=CONF_SOURCE_HELP
)
@_month_option("--month", "month", "The")
@click.option(
    "--stage",
    "stages",
    multiple=True,
    type=click.Choice(["predict", "score", "retrain", "refresh", "history"]),
    help="Run only this stage (repeatable; each needs the one before it done). "
    "Default: all, in order.",
)
@click.option(
    "--verbose",
    is_flag=True,
    help="Also print what the month's Kedro runs print (their nodes and summaries).",
)
@click.pass_obj
@_tuned
def operate(
    metadata, env: str | None, conf_source: str | None, month, stages, verbose: bool
) -> None:
    """Operate one month of the game at its close, on its data as they are.

    Batch predict the month with the champion and report its drift (predict),
    score earlier batches whose labels settled (score), retrain, score and
    promote when the drift report recommends it (retrain), refresh the online
    store (refresh), and add the month to the monitoring history in
    data/08_reporting/monitoring/ (history). Each stage is an MLflow run; a
    scheduler runs them one task each (deploy/airflow/dags/kedro_ml_monthly.py).
    """
    from kedro_ml.orchestration.operation import STAGES
    from kedro_ml.orchestration.operation import operate as run_operate
    from kedro_ml.runtime import quiet_runs

    if month.day != 1:
        raise click.BadParameter(
            f"{month:%Y-%m-%d} is not a month: give its first day", param_hint="--month"
        )
    chosen = [stage for stage in STAGES if stage in stages] if stages else list(STAGES)
    with quiet_runs(not verbose):
        state = run_operate(
            metadata.project_path,
            f"{month:%Y-%m-%d}",
            env=env,
            conf_source=conf_source,
            stages=chosen,
            progress=click.echo,
        )
    click.echo(_operated_line(state, chosen))


def _operated_line(state: dict, stages: list[str]) -> str:
    """The closing line of ``kedro operate``: what the month's stages found and did."""
    parts = [f"Operated {state['month'][:7]} ({', '.join(stages)})"]
    if "batch_size" in state:
        parts.append(
            f"predicted {state['batch_size']} with champion version "
            f"{state['champion_version']}, drift {state['share_drifted']:.2f}"
        )
    if "score" in stages:
        parts.append(
            f"{len(state.get('scored_batches') or {})} earlier batch(es) scored"
        )
    if "retrain" in stages:
        if state.get("retrained"):
            parts.append(
                "retrained, "
                + ("promoted" if state["promoted"] else "not promoted")
                + f" ({state.get('promotion_reason')})"
            )
        else:
            parts.append("no retraining needed")
    if "history" in stages:
        from pathlib import Path

        from kedro_ml.framework.catalog import shown_path

        parts.append(f"history: {shown_path(Path(state['monitoring_page']))}")
    return "; ".join(parts) + "."


@cli.command("experiment")
@env_option
@click.option(
    "--only",
    "only",
    multiple=True,
    metavar="NAME",
    help="Run only this candidate (repeatable). Default: every candidate.",
)
@click.option(
    "--promote",
    "promote",
    default=None,
    metavar="NAME",
    help="Send this candidate through train, score and promote instead: the "
    "promotion rule decides whether it becomes champion.",
)
@click.option(
    "--verbose",
    is_flag=True,
    help="Also print what the Kedro runs print (their nodes and summaries).",
)
@click.pass_obj
@_tuned
def experiment(metadata, env: str | None, only, promote, verbose: bool) -> None:
    """Train and compare the candidates of experiments.candidates on the same windows.

    Every candidate is fitted on train.window and scored on score.window, with
    the promotion rule's interval against the champion; each is a child MLflow
    run of one experiment run. The table and picture are written to
    data/08_reporting/experiments/. Nothing is promoted unless --promote NAME.
    """
    from kedro_ml.runtime import quiet_runs

    if promote:
        if only:
            raise click.BadParameter(
                "give either --only or --promote", param_hint="--promote"
            )
        from kedro_ml.orchestration.experiments import promote_candidate

        with quiet_runs(not verbose):
            decision = promote_candidate(metadata.project_path, promote, env=env)
        verdict = "promoted" if decision["promote"] else "not promoted"
        click.echo(
            f"Candidate {promote} (model {decision.get('candidate_model_id')}): "
            f"{verdict}: {decision['reason']}."
        )
        return
    from kedro_ml.orchestration.experiments import run_experiment

    with quiet_runs(not verbose):
        result = run_experiment(
            metadata.project_path, env=env, only=list(only), progress=click.echo
        )
    click.echo(_experiment_summary(result))


def _experiment_summary(result: dict) -> str:
    """The ranking at the end of ``kedro experiment``."""
    from pathlib import Path

    from kedro_ml.framework.catalog import shown_path

    lines = [
        f"{len(result['rows'])} candidates in {result['seconds']:.0f} s (one feature "
        f"build, {result['features_seconds']:.0f} s), ranked by out-of-time ROC-AUC:"
    ]
    champion = result["champion"]
    for row in result["table"].to_dict("records"):
        line = (
            f"  {row['rank']}. {row['candidate']:<24} {row['roc_auc']:.4f} "
            f"[{row['roc_auc_low']:.4f}, {row['roc_auc_high']:.4f}]"
        )
        if champion is not None:
            verdict = (
                "beats the champion beyond noise"
                if row["beats_champion"]
                else "not better than the champion beyond noise"
            )
            line += (
                f"  vs champion {row['difference_vs_champion']:+.4f} "
                f"[{row['difference_low']:+.4f}, {row['difference_high']:+.4f}]: {verdict}"
            )
        lines.append(line)
    if champion is None:
        lines.append(
            "No champion yet: nothing to beat (the first promotion needs none)."
        )
    else:
        winners = [r["candidate"] for r in result["rows"] if r["beats_champion"]]
        lines.append(
            f"Champion: version {champion} (ROC-AUC {result['champion_roc_auc']:.4f} on "
            f"the same rows). Beyond noise: {', '.join(winners) or 'none'}."
        )
    lines.append(
        f"Table: {shown_path(Path(result['outputs']['experiment_table']))}; picture: "
        f"{shown_path(Path(result['outputs']['experiment_plot']))} (MLflow run "
        f"{result['mlflow_run_id']}). Promote one with: kedro experiment --promote NAME"
    )
    return "\n".join(lines)


@cli.command("serve")
@env_option
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on."
)
@click.option(
    "--port", default=5001, show_default=True, type=int, help="Port to listen on."
)
@click.option(
    "--max-rows",
    default=None,
    type=int,
    help="The most rows a request may hold (default 10000).",
)
@click.pass_obj
@_tuned
def serve(
    metadata, env: str | None, host: str, port: int, max_rows: int | None
) -> None:
    """Serve the game's champion, with its online store, over HTTP (POST /invocations).

    Online requests (char_id and a subscription's terms) look the character up
    in the store `kedro run -p sub_churn_refresh_online_store` writes; feature
    rows are answered as batch prediction answers them.
    """
    import os

    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    from kedro_ml.serving.app import load
    from kedro_ml.serving.app import serve as serve_model

    bootstrap_project(metadata.project_path)
    with KedroSession.create(project_path=metadata.project_path, env=env) as session:
        context = session.load_context()  # sets up tracking (kedro-mlflow)
        game = context.params["game"]
        store = context.catalog.get("online_store").filepath
    from kedro_ml.serving.store import (
        OnlineStore,
        StoreError,
        check_store_game,
        check_store_model,
    )

    model_uri = f"models:/sub_churn_{game}@champion"
    model = load(model_uri)
    try:
        check_store_game(store, game)
        try:
            meta = OnlineStore(store).meta
        except StoreError:
            meta = None  # missing or unreadable: /health and requests say so
        if meta is not None:
            check_store_model(store, meta, model.model.model_id_)
    except StoreError as error:
        raise click.ClickException(str(error)) from None
    if max_rows is not None:
        os.environ["KEDRO_ML_MAX_ROWS"] = str(max_rows)
    os.environ["KEDRO_ML_ONLINE_STORE"] = str(store)
    click.echo(
        f"Serving {model_uri} with the online store {store} on http://{host}:{port}"
    )
    serve_model(model, host, port)
