"""Project hooks."""

from __future__ import annotations

import re
from typing import Any

from kedro.framework.hooks import hook_impl

_GAME_ALIAS = re.compile(r"(?P<pipeline>.+)_(?P<game>game\d+)")


class GameMismatchError(RuntimeError):
    """A game's pipeline alias was run in another game's environment."""


class GameAliasHooks:
    """Stops ``<pipeline>_<game>`` aliases run outside that game's environment.

    The original project named game 2's pipelines ``<pipeline>_game2``; here a
    game is a Kedro environment, and the aliases run the same pipelines. The
    check runs first, before any tracking starts or any node runs.
    """

    @hook_impl(tryfirst=True)
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Any, catalog: Any
    ) -> None:
        game = catalog.load("params:game")
        for name in run_params.get("pipeline_names") or []:
            match = _GAME_ALIAS.fullmatch(name)
            if match and match["game"] != game:
                env = f"{match['game']}_env"
                current = run_params.get("env") or "the default environment"
                raise GameMismatchError(
                    f"Pipeline '{name}' runs {match['game']}, but this run's environment "
                    f"({current}) is {game}. Add --env={env}: "
                    f"kedro run --env={env} -p {name}"
                )
