"""Project settings: hooks, and configuration loading and merging across game environments."""

from kedro.config import OmegaConfigLoader
from omegaconf.resolvers import oc

from kedro_ml.runtime import (
    no_collections_at_exit,
    no_transparent_huge_pages,
    paused_gc,
)

# Before any data is read: the run's arrays in small pages; and no full
# collections over them at exit (kedro_ml.runtime).
no_transparent_huge_pages()
no_collections_at_exit()

# The hooks import MLflow (about 1.3 s): without the collector's full passes
# over what the import creates (kedro_ml.runtime).
with paused_gc():
    from kedro_ml.hooks.checks import RunChecks, TrackingStoreCheck, project_path
    from kedro_ml.hooks.locks import RunLock
    from kedro_ml.hooks.spark import SparkSessionHook, SparkToPandas
    from kedro_ml.hooks.summary import RunProgress, RunSummary
    from kedro_ml.hooks.tracking import MlflowTracking, RunTags
    from kedro_ml.hooks.writes import BackgroundWrites

# Every hook of a run, in one place. Kedro calls them in this order:
#   after_context_created: TrackingStoreCheck (tryfirst), then kedro-mlflow's set-up,
#                          then SparkSessionHook (only where the env has a spark.yml)
#   before_pipeline_run:   RunChecks, then RunLock (both tryfirst: the later
#                          registered runs first), then MlflowTracking (closes
#                          runs killed earlier, opens this run), then RunTags (trylast)
#   before_node_run:       RunProgress prints [k/n] <node>; SparkToPandas hands
#                          Spark inputs to nodes that only take pandas
#   after_dataset_saved:   BackgroundWrites waits for the tables written in the
#                          background once the last node's outputs are saved
#   after_pipeline_run / on_pipeline_error: MlflowTracking closes the run, RunLock
#                          unlocks; RunSummary (trylast) prints what came out
# A failed check stops the run before any lock is taken or MLflow run opened.
HOOKS = (
    TrackingStoreCheck(),  # the server answers, the sqlite store exists
    RunLock(),  # one run at a time on a game's data
    RunChecks(),  # game names, parameters
    MlflowTracking(),  # kedro-mlflow: set-up, the run, parameters, metric datasets
    RunTags(),  # tags of the open run
    RunProgress(),  # [k/n] <node> as each node starts
    RunSummary(),  # the last lines of the run: metrics, promotion, batch, reports
    SparkSessionHook(),  # environments with a spark.yml: the Spark session
    SparkToPandas(),  # Spark frames reach pandas nodes as pandas
    BackgroundWrites(),  # tables written while the next nodes run, all on disk at the end
)

# kedro-mlflow's own hook is registered above (with its run state kept to one
# session). kedro-viz's run hooks write dataset statistics and run events to
# one `.viz/` folder per project, which every game would overwrite; `kedro viz`
# itself is unaffected. kedro-telemetry sends usage data: off for every run.
DISABLE_HOOKS_FOR_PLUGINS = ("kedro_mlflow", "kedro-viz", "kedro-telemetry")

CONFIG_LOADER_CLASS = OmegaConfigLoader

# A game environment overrides only what differs from conf/base. Soft merging
# keeps sibling keys of a partially overridden block; the default (destructive)
# strategy would silently drop them. Lists are values: an environment that sets
# a list replaces it whole.
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "merge_strategy": {"parameters": "soft", "mlflow": "soft", "globals": "soft"},
    # ${oc.env:VAR,default} outside credentials, for MLFLOW_TRACKING_URI in mlflow.yml;
    # ${km.project_path:mlflow.db}: a path under the project root, wherever Kedro
    # was started from (one tracking store for runs, notebooks and the UI)
    "custom_resolvers": {"oc.env": oc.env, "km.project_path": project_path},
    "config_patterns": {
        "mlflow": ["mlflow*", "mlflow*/**", "**/mlflow*"],
        "spark": ["spark*", "spark*/**"],
    },
}
