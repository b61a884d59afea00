"""Preconditions of a run: checks that stop it before its first node, saying what to do."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click
from kedro.framework.hooks import hook_impl

from kedro_ml.core.params import ParameterError, validate_parameters
from kedro_ml.framework.catalog import dataset_filepath, shown_path
from kedro_ml.framework.lineage import tracked_files

_GAME_ALIAS = re.compile(r"(?P<pipeline>.+)_(?P<game>game\d+)")


class RunCheckError(click.ClickException):
    """A run stopped before its first node; the message says what to do.

    ``kedro run`` shows the message alone, no traceback, and exits with 1.
    """


class GameMismatchError(RunCheckError):
    """A game's pipeline alias was run in another game's environment."""


class MissingInputError(RunCheckError):
    """A dataset the pipeline reads does not exist yet: another pipeline writes it."""


def check_game_alias(run_params: dict[str, Any], game: str) -> None:
    """Stop ``<pipeline>_<game>`` names run outside that game's environment.

    The original project named game 2's pipelines ``<pipeline>_game2``; here a
    game is a Kedro environment, and those names run the same pipelines.
    """
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


class MissingEnvironmentError(RunCheckError):
    """``--env`` names an environment that has no configuration folder."""


def check_environment(conf_source: str | Path, env: str | None) -> None:
    """Stop a run whose ``--env`` names no folder of the configuration.

    Kedro would run on ``base`` alone, silently: another game's data, model
    and registry entry than the one asked for. Checked where the
    configuration is a folder (an archive is read as it is).
    """
    conf = Path(conf_source)
    if not env or not conf.is_dir() or (conf / env).is_dir():
        return
    known = sorted(p.name for p in conf.iterdir() if p.is_dir())
    raise MissingEnvironmentError(
        f"Environment '{env}' does not exist: there is no folder {conf / env}. "
        f"Environments here: {', '.join(known)}. A new game is a folder of its own "
        "under conf/ (see conf/game2_env)."
    )


class ParameterCheckError(RunCheckError):
    """Parameters that cannot run, each named by its key (``kedro_ml.core.params``)."""


def check_parameters(pipeline: Any, parameters: dict[str, Any]) -> None:
    """Validate the parameter blocks the pipeline reads (``params:<block>...`` inputs).

    A problem stops the run as a message (no traceback), listing every key.
    """
    used = {
        name.split(":", 1)[1].split(".", 1)[0]
        for name in pipeline.inputs()
        if name.startswith("params:")
    }
    try:
        validate_parameters(parameters, used)
    except ParameterError as error:
        raise ParameterCheckError(str(error)) from None


def _base(name: str) -> str:
    return name.split("@", 1)[0]  # transcoded: one dataset, two views


def _registered(registry: dict[str, Any] | None) -> list[tuple[str, Any]]:
    """The registered pipelines, smallest first (``<name>_game2`` aliases left out)."""
    if registry is None:
        from kedro.framework.project import pipelines as registry

    named = [(n, p) for n, p in registry.items() if not n.endswith("_game2")]
    return sorted(named, key=lambda item: (len(item[1].nodes), item[0]))


class _Inputs:
    """Which catalog datasets a run needs and lacks (``exists`` asked once per name)."""

    def __init__(self, catalog: Any) -> None:
        self.catalog = catalog
        self._exists: dict[str, bool] = {}

    def missing(self, pipeline: Any) -> list[str]:
        lacking = []
        for name in sorted(pipeline.inputs()):
            if name.startswith("params:") or name == "parameters":
                continue
            if name not in self.catalog:
                continue
            if getattr(self.catalog.get(name), "optional_input", False):
                continue
            if name not in self._exists:
                self._exists[name] = bool(self.catalog.exists(name))
            if not self._exists[name]:
                lacking.append(name)
        return lacking


def _command(pipeline_name: str, env: str | None) -> str:
    env_flag = f" --env={env}" if env and env != "local" else ""
    if pipeline_name == "__default__":
        return f"kedro run{env_flag}"
    return f"kedro run{env_flag} --pipelines={pipeline_name}"


def check_inputs_exist(
    pipeline: Any,
    catalog: Any,
    run_params: dict[str, Any],
    registry: dict[str, Any] | None = None,
) -> None:
    """Stop a pipeline whose inputs are not there yet, naming the pipeline to run first.

    Only the pipeline's free inputs are checked (what no node of this run
    writes), and only catalog entries: a dataset marked ``optional_input``
    (such as the generator's true probabilities), or one that may be missing
    (``missing_ok``), is not required. The pipeline named is the smallest
    registered one that writes every missing dataset from what exists now.
    """
    inputs = _Inputs(catalog)
    missing = inputs.missing(pipeline)
    if not missing:
        return
    env = run_params.get("env")
    wanted = {_base(name) for name in missing}
    first = None
    writers: dict[str, str] = {}
    for name, candidate in _registered(registry):
        written = {_base(output) for output in candidate.all_outputs()}
        for dataset in missing:
            if _base(dataset) in written:
                writers.setdefault(dataset, name)
        if first is None and wanted <= written and not inputs.missing(candidate):
            first = name
    lines = []
    for dataset in missing:
        path = dataset_filepath(catalog, dataset)
        where = f" ({shown_path(path)})" if path else ""
        lines.append(
            f"  {dataset}{where}: written by `{_command(writers[dataset], env)}`"
            if dataset in writers
            else f"  {dataset}{where}: written by no pipeline; put its file in place"
        )
    advice = (
        f"Run `{_command(first, env)}` first: it writes them from what exists now."
        if first
        else "Run the pipelines that write them first."
    )
    raise MissingInputError(
        "This run reads datasets that do not exist yet:\n"
        + "\n".join(lines)
        + f"\n{advice}"
    )


class TrackedDataError(RunCheckError):
    """The run would overwrite files git tracks (the committed sample)."""


OVERWRITE_FLAG = "synthesize.overwrite_tracked"


def check_tracked_outputs(
    pipeline: Any, catalog: Any, parameters: dict[str, Any], project_path: Any
) -> None:
    """Stop a run that would overwrite files git tracks, unless ``OVERWRITE_FLAG`` allows it.

    The committed sample in ``data/01_raw`` is what the README's figures come
    from: the generator writes a game of its own unless told to replace it.
    """
    paths = [
        path
        for name in sorted(pipeline.all_outputs())
        if (path := dataset_filepath(catalog, name)) is not None
        and (path := path.resolve()).exists()
    ]
    tracked = tracked_files(project_path, paths)
    if not tracked or (parameters.get("synthesize") or {}).get("overwrite_tracked"):
        return
    folders = sorted({str(Path(t).parent) + "/" for t in tracked})
    raise TrackedDataError(
        f"This run would overwrite files git tracks in {', '.join(folders)} "
        f"({', '.join(Path(t).name for t in tracked)}): the committed sample the "
        "README's figures come from.\n"
        "Write a game of your own instead: `kedro run --env=sandbox_env -p "
        "sub_churn_synthesize --params=...` writes data/sandbox/ (README: Synthetic "
        f"data), or replace the sample on purpose with --params={OVERWRITE_FLAG}=true"
    )


class RunChecks:
    """As the context is created: ``--env`` names an environment that exists.

    Before the first node (and before kedro-mlflow opens a run), in this order:

    1. a ``<pipeline>_<game>`` name runs in its game's environment;
    2. the parameter blocks the pipeline reads are valid;
    3. it overwrites no file git tracks (unless told to);
    4. the datasets it reads exist (else: which pipeline to run first).
    """

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        check_environment(context.config_loader.conf_source, context.env)

    @hook_impl
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Any, catalog: Any
    ) -> None:
        parameters = catalog.load("parameters")
        check_game_alias(run_params, parameters["game"])
        check_parameters(pipeline, parameters)
        check_tracked_outputs(
            pipeline, catalog, parameters, run_params.get("project_path")
        )
        check_inputs_exist(pipeline, catalog, run_params)
