"""Project settings: configuration loading and merging across game environments."""

from kedro.config import OmegaConfigLoader
from omegaconf.resolvers import oc

from kedro_ml.hooks import (
    GameAliasHooks,
    ParameterValidationHooks,
    RunContextHooks,
    SeedTagHooks,
    TrackingServerHooks,
    TrackingTagsHooks,
)

# Among the checks that run first, the later one runs earlier (pluggy): a game
# alias run in the wrong environment is reported before its parameters.
HOOKS = (
    TrackingServerHooks(),
    ParameterValidationHooks(),
    GameAliasHooks(),
    TrackingTagsHooks(),
    RunContextHooks(),
    SeedTagHooks(),
)

# kedro-viz's run hooks write dataset statistics and run events to one `.viz/`
# folder per project, which every game would overwrite. Games keep their files
# apart, so those hooks stay off; `kedro viz` itself is unaffected.
DISABLE_HOOKS_FOR_PLUGINS = ("kedro-viz",)

CONFIG_LOADER_CLASS = OmegaConfigLoader

# A game environment overrides only what differs from conf/base. Soft merging
# keeps sibling keys of a partially overridden block; the default (destructive)
# strategy would silently drop them.
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "merge_strategy": {"parameters": "soft", "mlflow": "soft", "globals": "soft"},
    # ${oc.env:VAR,default} outside credentials, for MLFLOW_TRACKING_URI in mlflow.yml
    "custom_resolvers": {"oc.env": oc.env},
    "config_patterns": {
        "mlflow": ["mlflow*", "mlflow*/**", "**/mlflow*"],
    },
}
