"""Project settings: the hooks in the order they act, and configuration loading across games.

Importing this module only declares: it changes nothing in the process.
Process tuning happens where the project's processes start
(``kedro_ml.cli``'s ``run`` and project commands, ``python -m kedro_ml``).
"""

from omegaconf.resolvers import oc

from kedro_ml.framework.config import ProjectConfigLoader
from kedro_ml.framework.resolvers import RESOLVERS
from kedro_ml.runtime import paused_gc

# The hooks import MLflow (about 1.3 s): without the collector's full passes
# over what the import creates (kedro_ml.runtime; the collector is back on after).
with paused_gc():
    from kedro_ml.hooks.checks import RunChecks
    from kedro_ml.hooks.errors import NodeErrors
    from kedro_ml.hooks.runs import RunLock, StopWhenTerminated, TrackingStore
    from kedro_ml.hooks.spark import SparkSessionHook, SparkToPandas
    from kedro_ml.hooks.summary import RunProgress, RunSummary
    from kedro_ml.hooks.tags import RunTags
    from kedro_ml.hooks.tracking import MlflowTracking
    from kedro_ml.hooks.writes import BackgroundWrites

# Every hook of a run, in the order it acts at each step (a hook without work at
# a step is skipped there). A failed check stops the run before any lock is taken
# or MLflow run opened; the summary is the last thing a run prints.
RUN_ORDER = (
    RunProgress(),  # logging levels again, then [k/n] <node> as each node starts
    NodeErrors(),  # a node's error notes the node: the command's message names it
    RunChecks(),  # the environment exists; then game names, parameters, inputs that exist
    TrackingStore(),  # the project root noted; the server answers, the sqlite store exists
    RunLock(),  # one run at a time on a game's data
    StopWhenTerminated(),  # SIGTERM: the run stops at the next node boundary
    MlflowTracking(),  # kedro-mlflow: set-up, closes runs killed earlier, the run, parameters
    RunTags(),  # name and tags of the open run
    SparkSessionHook(),  # environments with a spark.yml: the Spark session
    SparkToPandas(),  # Spark frames reach pandas nodes as pandas
    BackgroundWrites(),  # tables written while the next nodes run, all on disk at the end
    RunSummary(),  # the last lines of the run: metrics, promotion, batch, reports
)
# Kedro's hook manager (pluggy) calls the hook registered last first.
HOOKS = tuple(reversed(RUN_ORDER))

# kedro-mlflow's own hook is replaced by MlflowTracking above. kedro-viz's run
# hooks write dataset statistics and run events to one `.viz/` folder per
# project, which every game would overwrite; `kedro viz` itself is unaffected.
# kedro-telemetry sends usage data: off for every run.
DISABLE_HOOKS_FOR_PLUGINS = ("kedro_mlflow", "kedro-viz", "kedro-telemetry")

# Kedro's OmegaConfigLoader, naming the key where an environment's value cannot merge
CONFIG_LOADER_CLASS = ProjectConfigLoader

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
    "custom_resolvers": {"oc.env": oc.env, **RESOLVERS},
    "config_patterns": {
        "mlflow": ["mlflow*", "mlflow*/**", "**/mlflow*"],
        "spark": ["spark*", "spark*/**"],
    },
}
