"""Where to look in MLflow's UI: each game's champion, and its latest lifecycle run.

``make mlflow-ui`` prints these before it starts the UI
(``python -m kedro_ml.framework.links --port 5000``), so the first page to open
is the model, not MLflow's landing page.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

# the run tag that names what ran, and the value of a whole lifecycle (`make run`)
PIPELINE_TAG = "pipeline"
LIFECYCLE = "__default__"
# MLflow 3's UI opens on its GenAI views unless a page asks for model training
VIEW = "?workflowType=machine_learning"


def ui_links(client: MlflowClient, base_url: str) -> Iterator[str]:
    """Lines naming, per registered model, its champion's page and the latest lifecycle run."""
    for model in client.search_registered_models(order_by=["name"]):
        try:
            champion = client.get_model_version_by_alias(model.name, "champion")
        except MlflowException:
            continue
        yield (
            f"champion of {model.name} (version {champion.version}): "
            f"{base_url}/#/models/{model.name}/versions/{champion.version}{VIEW}"
        )
    for experiment in client.search_experiments(order_by=["name"]):
        runs = client.search_runs(
            [experiment.experiment_id],
            filter_string=f"tags.{PIPELINE_TAG} = '{LIFECYCLE}'",
            order_by=["attributes.start_time DESC"],
            max_results=1,
        )
        if runs:
            run = runs[0]
            yield (
                f"latest lifecycle run of {experiment.name} ({run.info.status.lower()}): "
                f"{base_url}/#/experiments/{experiment.experiment_id}/runs/{run.info.run_id}{VIEW}"
            )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tracking-uri", default=os.environ.get("MLFLOW_TRACKING_URI"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args(argv)
    base = f"http://{args.host}:{args.port}"
    lines = list(ui_links(MlflowClient(args.tracking_uri), base))
    print(f"MLflow UI on {base}")  # noqa: T201 - the command's output
    for line in lines or ["no champion and no lifecycle run yet: make run makes both"]:
        print(f"  {line}")  # noqa: T201


if __name__ == "__main__":
    main()
