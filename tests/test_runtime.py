"""What processes skip: full collections over a run's imports, MLflow's IPython probe."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import weakref

import pytest

from kedro_ml.runtime import no_transparent_huge_pages, not_in_ipython, paused_gc


def _python(code: str) -> str:
    """What a fresh interpreter running ``code`` prints."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout


class _Node:
    """A container the collector tracks; two of them make a reference cycle."""

    other: _Node | None = None


@pytest.fixture
def collector_on():
    was_enabled = gc.isenabled()
    gc.enable()
    yield
    if not was_enabled:
        gc.disable()


def test_the_collector_is_off_in_the_block_and_on_after_it(collector_on):
    with paused_gc():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_the_collector_is_back_on_after_an_error(collector_on):
    with pytest.raises(ZeroDivisionError), paused_gc():
        1 / 0  # noqa: B018
    assert gc.isenabled()


def test_a_collector_switched_off_before_stays_off(collector_on):
    with paused_gc():
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner block does not switch it back on
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_what_the_block_made_skips_the_young_generations(collector_on):
    gc.collect()
    with paused_gc():
        kept = [_Node() for _ in range(20_000)]
    oldest = {id(o) for o in gc.get_objects(generation=2)}
    assert all(id(node) in oldest for node in kept)  # no young collection walks them


def test_a_cycle_made_in_the_block_is_still_freed(collector_on):
    with paused_gc():
        a, b = _Node(), _Node()
        a.other, b.other = b, a
        alive = weakref.ref(a)
        del a, b
    gc.collect()
    assert alive() is None


def test_objects_the_process_froze_stay_frozen():
    # a fresh interpreter: no other thread of the test process frees frozen objects
    code = (
        "import gc\n"
        "from kedro_ml.runtime import paused_gc\n"
        "class Node: pass\n"
        "frozen = Node()\n"
        "gc.freeze()\n"
        "with paused_gc():\n"
        "    Node()\n"
        "print(gc.get_freeze_count() > 0, any(o is frozen for o in gc.get_objects()))\n"
    )
    # still frozen: in the permanent generation, not among the collected objects
    assert _python(code).split() == ["True", "False"]


def test_importing_the_settings_runs_no_full_collection():
    """The hooks import MLflow: no full collection while they do (six without the pause)."""
    code = (
        "import gc, sys\n"
        "import kedro.config, omegaconf.resolvers\n"
        "full = []\n"
        "gc.callbacks.append(lambda phase, info: full.append(1)"
        " if phase == 'start' and info['generation'] == 2 else None)\n"
        "import kedro_ml.settings\n"
        "print(len(full), 'mlflow' in sys.modules, gc.isenabled())\n"
    )
    stdout = _python(code)
    assert stdout.split() == ["0", "True", "True"]


def test_what_is_alive_at_exit_is_not_collected_again():
    """Exit handlers registered earlier run later: this one sees the heap frozen."""
    code = (
        "import atexit, gc\n"
        "atexit.register(lambda: print('frozen at exit', gc.get_freeze_count() > 10_000))\n"
        "from kedro_ml.runtime import no_collections_at_exit\n"
        "registered = atexit._ncallbacks()\n"
        "no_collections_at_exit()\n"
        "no_collections_at_exit()\n"
        "print('handlers added', atexit._ncallbacks() - registered)\n"
        "kept = [[i] for i in range(20_000)]\n"
    )
    stdout = _python(code)
    assert stdout.splitlines() == ["handlers added 1", "frozen at exit True"]


def test_mlflows_notebook_probe_does_not_import_ipython(monkeypatch):
    from mlflow.tracking.context.jupyter_notebook_context import (
        JupyterNotebookRunContext,
    )

    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    with not_in_ipython():
        assert JupyterNotebookRunContext().in_context() is False
    assert "IPython" not in sys.modules  # neither imported nor left blocked


def test_in_ipython_the_notebook_probe_runs_as_usual():
    import IPython

    with not_in_ipython():
        assert sys.modules["IPython"] is IPython
        from IPython import get_ipython  # what MLflow's probe imports

        assert get_ipython() is None  # a test process is no IPython shell
    assert sys.modules["IPython"] is IPython


_THP_STATE = (
    "import ctypes\n"
    "from kedro_ml.runtime import (\n"
    "    PR_GET_THP_DISABLE, PR_SET_THP_DISABLE, no_transparent_huge_pages,\n"
    ")\n"
    "libc = ctypes.CDLL(None)\n"
    "libc.prctl(PR_SET_THP_DISABLE, 0, 0, 0, 0)  # on, whatever the parent chose\n"
    "before = libc.prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0)\n"
    "{call}\n"
    "print(before, libc.prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0))\n"
)


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="a Linux process setting"
)
@pytest.mark.parametrize(
    ("keep", "call"),
    [
        (None, "assert no_transparent_huge_pages()"),
        ("keep", "assert not no_transparent_huge_pages()"),
        (" Keep ", "assert not no_transparent_huge_pages()"),
        # what `kedro run`, the project commands and `python -m kedro_ml` do first
        (None, "from kedro_ml.runtime import tune_process; tune_process()"),
    ],
)
def test_transparent_huge_pages_are_off_unless_kept(keep, call, monkeypatch):
    if keep:
        monkeypatch.setenv("KEDRO_ML_TRANSPARENT_HUGE_PAGES", keep)
    else:
        monkeypatch.delenv("KEDRO_ML_TRANSPARENT_HUGE_PAGES", raising=False)
    code = _THP_STATE.format(call=call)
    stdout = _python(code)
    assert stdout.split() == ["0", "0" if keep else "1"]


@pytest.mark.parametrize("value", ["on", "true", "1", "kept"])
def test_another_huge_pages_value_is_refused_naming_it(value, monkeypatch):
    monkeypatch.setenv("KEDRO_ML_TRANSPARENT_HUGE_PAGES", value)
    with pytest.raises(
        ValueError, match=rf"KEDRO_ML_TRANSPARENT_HUGE_PAGES='{value}'.*'keep'"
    ):
        no_transparent_huge_pages()


def _status_reports_huge_pages() -> bool:
    try:
        with open("/proc/self/status") as status:
            return any(line.startswith("THP_enabled") for line in status)
    except OSError:
        return False


@pytest.mark.skipif(
    not _status_reports_huge_pages(), reason="no THP_enabled in /proc (Linux 5.0+)"
)
def test_the_processes_a_run_starts_inherit_small_pages(monkeypatch):
    monkeypatch.delenv("KEDRO_ML_TRANSPARENT_HUGE_PAGES", raising=False)
    code = (
        "import subprocess\n"
        "from kedro_ml.runtime import no_transparent_huge_pages\n"
        "no_transparent_huge_pages()\n"
        "status = subprocess.run(['cat', '/proc/self/status'], capture_output=True,"
        " text=True).stdout\n"
        "print([line.split()[1] for line in status.splitlines()"
        " if line.startswith('THP_enabled')])\n"
    )
    stdout = _python(code)
    assert stdout.strip() == "['0']"  # a child of the process, exec'd: still off


def test_quiet_runs_nest_and_end_with_their_block():
    from kedro_ml.runtime import quiet_runs, runs_are_quiet

    assert not runs_are_quiet()
    with quiet_runs():
        assert runs_are_quiet()
        with quiet_runs(False), quiet_runs():
            assert runs_are_quiet()
        assert runs_are_quiet()
    assert not runs_are_quiet()
    with pytest.raises(RuntimeError), quiet_runs():
        raise RuntimeError
    assert not runs_are_quiet()


def test_a_run_from_the_wheel_logs_as_its_configuration_says(tmp_path, monkeypatch):
    import tarfile

    from kedro_ml.runtime import use_project_logging

    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "logging.yml").write_text("version: 1\\n")
    archive = tmp_path / "conf.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(conf, arcname="conf")
    monkeypatch.chdir(tmp_path / "conf")  # no conf/logging.yml here
    # set, then removed: monkeypatch records the variable as it was before the
    # test, so what use_project_logging sets is undone at the end
    monkeypatch.setenv("KEDRO_LOGGING_CONFIG", "")
    monkeypatch.delenv("KEDRO_LOGGING_CONFIG")
    for argv in (
        [f"--conf-source={archive}", "--pipelines=x"],
        ["--conf-source", str(conf)],
    ):
        monkeypatch.delenv("KEDRO_LOGGING_CONFIG", raising=False)
        path = use_project_logging(argv)
        assert path is not None and open(path).read() == "version: 1\\n"
        assert os.environ["KEDRO_LOGGING_CONFIG"] == path
    # a configuration of its own, no --conf-source, or one without logging.yml
    assert use_project_logging([f"--conf-source={archive}"]) is None
    monkeypatch.delenv("KEDRO_LOGGING_CONFIG")
    assert use_project_logging(["--pipelines=x"]) is None
    assert use_project_logging([f"--conf-source={tmp_path / 'missing'}"]) is None
