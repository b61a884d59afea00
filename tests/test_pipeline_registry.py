"""The explicit registry: every name, composites as sums, each built only when asked for."""

from __future__ import annotations

import subprocess
import sys
import typing

import pytest

from kedro_ml.pipeline_registry import COMPOSITION, GAME2_ALIASED, register_pipelines


def test_every_name_is_registered_without_building_any():
    registry = register_pipelines()
    assert set(registry) == set(COMPOSITION) | {f"{n}_game2" for n in GAME2_ALIASED}
    assert len(registry) == len(COMPOSITION) + len(GAME2_ALIASED)
    assert registry._built == {} and registry._bases == {}


def test_a_composite_is_the_sum_of_its_base_pipelines():
    registry = register_pipelines()
    parts = COMPOSITION["sub_churn_score_from_raw"]
    expected = {node.name for part in parts for node in registry[part].nodes}
    assert {
        node.name for node in registry["sub_churn_score_from_raw"].nodes
    } == expected
    everything = {
        node.name
        for name in COMPOSITION["__default__"]
        for node in registry[name].nodes
    }
    assert {node.name for node in registry["__default__"].nodes} == everything
    # scoring a batch always reports its drift, in every pipeline that scores one
    drift = {node.name for node in registry["sub_churn_monitor"].nodes}
    for name in (
        "sub_churn_batch_score",
        "sub_churn_batch_score_from_raw",
        "__default__",
    ):
        assert drift <= {node.name for node in registry[name].nodes}, name
    assert registry["sub_churn_train_game2"] is registry["sub_churn_train_game2"]


def test_pipelines_import_no_model_or_plotting_library_they_do_not_use():
    # a fresh interpreter: what building one pipeline imports, and nothing else
    code = (
        "import sys\n"
        "from kedro_ml.pipeline_registry import register_pipelines\n"
        "register_pipelines()['sub_churn_standard_features']\n"
        "print(sorted(m for m in ('sklearn', 'matplotlib', 'skops', 'mlflow', 'scipy')"
        " if m in sys.modules))\n"
        "register_pipelines()['sub_churn_train']\n"
        "print('sklearn' in sys.modules, 'matplotlib' in sys.modules)\n"
        "register_pipelines()['sub_churn_score']\n"
        "from kedro_ml.core.reporting import roc_figure\n"
        "roc_figure([0, 1], [0.2, 0.8], 'ROC')\n"
        "print('matplotlib' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    first, trained, drawn = result.stdout.splitlines()
    assert first == "[]"
    # the check above would see sklearn if it were imported; training draws no figure
    assert trained == "True False"
    assert drawn == "True"


def test_every_node_function_has_type_hints_that_resolve():
    """Kedro validates parameters from each node's evaluated type hints.

    ``typing.get_type_hints`` runs on every node's function at the start of a
    run (through ``functools.wraps`` wrappers to the wrapped function's
    module); a name imported only under ``TYPE_CHECKING`` fails there, and
    Kedro logs a warning per node ("Could not extract type hints") and skips it.
    """
    registry = register_pipelines()
    failures = []
    for name in COMPOSITION:
        for node in registry[name].nodes:
            try:
                typing.get_type_hints(node.func)
            except Exception as error:  # noqa: BLE001 - every failure is listed
                failures.append(f"{name}: {node.name}: {error}")
    assert failures == []


def _marked_nodes():
    from kedro_ml.pipeline_registry import register_pipelines

    registry = register_pipelines()
    found = {}
    for name in registry:
        for node in registry[name].nodes:
            func = getattr(node.func, "func", node.func)  # a partial's function
            if getattr(func, "takes_spark", False):
                found[func.__name__] = func
    return found


def test_every_node_marked_for_spark_has_a_twin_with_the_same_parameters():
    """The pandas node and its Spark twin are paired by name in the mark, checked here."""
    import inspect

    pytest.importorskip("pyspark", reason="the Spark path: make spark-setup")
    from kedro_ml.spark import spark_twin

    marked = _marked_nodes()
    assert len(marked) == 10  # standard features 7, window features 2, batch 1
    for name, func in marked.items():
        twin = spark_twin(func)
        pandas_side = list(inspect.signature(inspect.unwrap(func)).parameters)
        spark_side = list(inspect.signature(twin).parameters)
        assert spark_side == pandas_side, name


def test_a_mark_naming_no_twin_is_found(monkeypatch):
    pytest.importorskip("pyspark", reason="the Spark path: make spark-setup")
    from kedro_ml.spark import runs_on_spark, spark_twin

    @runs_on_spark("no_such_twin")
    def node(frame):
        return frame

    with pytest.raises(AttributeError, match="no_such_twin"):
        spark_twin(node)


def test_base_pipelines_of_a_name_in_run_order():
    from kedro_ml.pipeline_registry import (
        COMPOSITION,
        base_node_names,
        base_pipelines_of,
        register_pipelines,
    )

    assert base_pipelines_of("sub_churn_train_from_raw") == [
        "sub_churn_standard_features",
        "sub_churn_train",
    ]
    assert base_pipelines_of("sub_churn_train") == ["sub_churn_train"]
    assert base_pipelines_of("sub_churn_score_from_raw_game2") == base_pipelines_of(
        "sub_churn_score_from_raw"
    )
    # every registered name is exactly the nodes of its bases, each base once
    registry = register_pipelines()
    for name in COMPOSITION:
        bases = base_pipelines_of(name)
        assert len(bases) == len(set(bases))
        nodes = [n for base in bases for n in base_node_names(base)]
        assert sorted(nodes) == sorted(n.name for n in registry[name].nodes), name
    with pytest.raises(KeyError, match="not a registered pipeline"):
        base_pipelines_of("sub_churn_nothing")
