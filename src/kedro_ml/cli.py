"""Project commands, added to ``kedro`` (``kedro retrain-if-drifted --help``).

``run`` is Kedro's own ``kedro run``: ``python -m kedro_ml`` looks for it here.
"""

from __future__ import annotations

import click
from kedro.framework.cli.project import run
from kedro.framework.cli.utils import env_option, validate_conf_source

__all__ = ["cli", "run"]

CONF_SOURCE_HELP = "Path of a configuration folder or archive to use instead of conf/."


@click.group(name="kedro_ml")
def cli() -> None:
    """Commands of the kedro_ml project."""


@cli.command("retrain-if-drifted")
@env_option
@click.option(
    "--conf-source", callback=validate_conf_source, default=None, help=CONF_SOURCE_HELP
)
@click.pass_obj
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
