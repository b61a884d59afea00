"""The pipeline registry, explicit: base pipelines, their sums, and the original names.

Every name is built here from the base pipelines' ``create_pipeline``, so
``kedro run -p NAME`` finds any of them whatever Kedro loads lazily.

* Base pipelines: one folder each under ``kedro_ml.pipelines``.
* Composites, as the original kedro-ml example named them: the standard
  features followed by train, by score and promotion, or by batch scoring.
* ``__default__``: the whole lifecycle (features, train, score, promote, batch
  predict, batch score with monitoring).
* ``<name>_game2``: the original example's names for game 2. A game is a Kedro
  environment here, so they are the same pipelines; run outside
  ``game2_env`` they stop before any node (``kedro_ml.hooks.checks``).

A pipeline is built, and its modules imported, the first time it is asked
for: ``kedro run -p sub_churn_standard_features`` imports neither
scikit-learn nor matplotlib, which the training and scoring nodes need
(about 1.5 s of every run's start otherwise).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping

from kedro.pipeline import Pipeline

from kedro_ml.runtime import paused_gc

# Each registered name and what it sums, in run order: a part is the base
# pipeline of that name where it names itself, else another registered name.
COMPOSITION: dict[str, tuple[str, ...]] = {
    "sub_churn_synthesize": ("sub_churn_synthesize",),
    "sub_churn_standard_features": ("sub_churn_standard_features",),
    "sub_churn_train": ("sub_churn_train",),
    "sub_churn_score": ("sub_churn_score",),
    "sub_churn_promote": ("sub_churn_promote",),
    "sub_churn_batch_predict": ("sub_churn_batch_predict",),
    "sub_churn_monitor": ("sub_churn_monitor",),
    # scoring a batch always reports its drift too
    "sub_churn_batch_score": ("sub_churn_batch_score", "sub_churn_monitor"),
    "sub_churn_refresh_online_store": ("sub_churn_refresh_online_store",),
    "sub_churn_train_from_raw": ("sub_churn_standard_features", "sub_churn_train"),
    "sub_churn_score_from_raw": (
        "sub_churn_standard_features",
        "sub_churn_score",
        "sub_churn_promote",
    ),
    "sub_churn_batch_score_from_raw": (
        "sub_churn_standard_features",
        "sub_churn_batch_score",
    ),
    "__default__": (
        "sub_churn_standard_features",
        "sub_churn_train",
        "sub_churn_score",
        "sub_churn_promote",
        "sub_churn_batch_predict",
        "sub_churn_batch_score",
    ),
}

# The original example's pipelines that had a `_game2` twin.
GAME2_ALIASED = (
    "sub_churn_standard_features",
    "sub_churn_train",
    "sub_churn_score",
    "sub_churn_batch_predict",
    "sub_churn_batch_score",
    "sub_churn_train_from_raw",
    "sub_churn_score_from_raw",
    "sub_churn_batch_score_from_raw",
)


class _Registry(Mapping[str, Pipeline]):
    """Registered pipelines by name, each built once, on first access."""

    def __init__(self, composition: Mapping[str, tuple[str, ...]]) -> None:
        self._composition = dict(composition)
        self._bases: dict[str, Pipeline] = {}
        self._built: dict[str, Pipeline] = {}

    def _base(self, name: str) -> Pipeline:
        if name not in self._bases:
            with paused_gc():  # scikit-learn and matplotlib, for most pipelines
                module = importlib.import_module(f"kedro_ml.pipelines.{name}")
                self._bases[name] = module.create_pipeline()
        return self._bases[name]

    def __getitem__(self, name: str) -> Pipeline:
        if name not in self._built:
            parts = [
                self._base(part) if part == name else self[part]
                for part in self._composition[name]  # KeyError: Kedro names it
            ]
            self._built[name] = sum(parts[1:], parts[0])
        return self._built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._composition)

    def __len__(self) -> int:
        return len(self._composition)


def base_node_names(base: str) -> list[str]:
    """The names of the nodes of the base pipeline ``base`` (a folder of ``kedro_ml.pipelines``)."""
    module = importlib.import_module(f"kedro_ml.pipelines.{base}")
    return [node.name for node in module.create_pipeline().nodes]


def base_pipelines_of(name: str) -> list[str]:
    """The base pipelines a registered name runs, in order (its game-2 alias included).

    A base may share its name with a registered sum (``sub_churn_batch_score``
    also runs ``sub_churn_monitor``): run one base alone by its nodes
    (``base_node_names``), not by that name.
    """
    composition = dict(COMPOSITION)
    composition.update({f"{n}_game2": COMPOSITION[n] for n in GAME2_ALIASED})
    if name not in composition:
        raise KeyError(f"{name!r} is not a registered pipeline")
    bases: list[str] = []
    for part in composition[name]:
        for base in [part] if part == name else base_pipelines_of(part):
            if base not in bases:
                bases.append(base)
    return bases


def register_pipelines() -> Mapping[str, Pipeline]:
    """Return the registered pipelines by name (built when first used)."""
    composition = dict(COMPOSITION)
    for name in GAME2_ALIASED:
        composition[f"{name}_game2"] = COMPOSITION[name]
    return _Registry(composition)
