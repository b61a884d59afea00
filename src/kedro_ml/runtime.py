"""What the project's processes skip: work no run of theirs needs.

* ``paused_gc``: no full garbage collections while a run's start imports
  half a million objects that are never garbage.
* ``not_in_ipython``: MLflow's notebook probe answered without importing
  IPython, in a process that has not imported it.
* ``no_transparent_huge_pages``: the process's memory in small pages, which
  a virtual machine hands out far faster than huge ones.
* ``no_collections_at_exit``: no full collections while the interpreter
  tears down what a run imported.
* ``fail_runs_on_termination``: SIGTERM fails the run cleanly (its MLflow run
  marked FAILED) instead of leaving it RUNNING.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import functools
import gc
import os
import signal
import sys
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection in the block: for imports and one-off set-up.

    A run's start imports MLflow, SQLAlchemy, Alembic and Kedro's plugins:
    about half a million long-lived objects. Each time they grow by a quarter,
    CPython runs a full collection over all of them (six in the start of a
    sample run, 0.66 s of its 4 s, freeing 155 objects). Imports make almost
    no reference cycles to free; the collector is back on at the block's end,
    on error too. Where it is off already (a caller's choice, or an enclosing
    block) it is left off.
    """
    if not gc.isenabled():
        yield
        return
    frozen_before = gc.get_freeze_count()
    gc.disable()
    try:
        yield
    finally:
        # What the block made joins the oldest generation without a pass over
        # it (otherwise the next young collections walk all of it); a cycle
        # among it is still freed by the next full collection. Not where the
        # process froze objects itself: unfreezing would release them too.
        if not frozen_before:
            gc.freeze()
            gc.unfreeze()
        gc.enable()


@functools.cache  # registered once per process
def no_collections_at_exit() -> None:
    """At interpreter exit, what is alive then is left to the operating system to free.

    Tearing modules down, CPython runs full collections over every object
    still alive: 1.2 s of a 3.5 s feature run on the sample, 1.6-1.9 s after
    a training run at 1M characters (0.2 s without). Registered once, it
    runs after every exit handler registered later (MLflow ends its runs,
    logging flushes first). Objects are still freed by reference counting;
    only unreachable cycles left at exit are not walked, whose finalizers
    Python does not promise to run at exit anyway.
    """
    atexit.register(gc.freeze)


@contextlib.contextmanager
def not_in_ipython() -> Iterator[None]:
    """MLflow's notebook probe answers "not in IPython" without importing it.

    To tag what it creates in a notebook, MLflow asks whether it runs in
    IPython by importing it, on every ``start_run`` and every logged model
    (0.2-0.4 s where IPython is installed, as in the project's development
    environment). A process that has not imported IPython is not running in
    it: for the block, importing it fails as it would where it is not
    installed, which MLflow answers with False. In a notebook or
    ``kedro ipython`` IPython is imported already and the probe runs as usual.
    """
    if "IPython" in sys.modules:
        yield
        return
    sys.modules["IPython"] = None  # type: ignore[assignment] - import raises ImportError
    try:
        yield
    finally:
        if "IPython" in sys.modules and sys.modules["IPython"] is None:
            del sys.modules["IPython"]


# prctl(2) options: the process's own switch for transparent huge pages
PR_SET_THP_DISABLE = 41
PR_GET_THP_DISABLE = 42
KEEP_HUGE_PAGES = "KEDRO_ML_TRANSPARENT_HUGE_PAGES"


def no_transparent_huge_pages() -> bool:
    """Transparent huge pages off for this process and those it starts; True if done.

    Where the kernel backs large allocations with 2 MB pages (``always`` in
    ``/sys/kernel/mm/transparent_hugepage/enabled``, or numpy's hint under
    ``madvise``), the first touch of each page zeroes 2 MB; in a virtual
    machine each such fault also goes to the host. On the benchmark machine
    (a Firecracker VM) training at 1M characters spent 13.6 s of its 27 s in
    the kernel with them and 5.0 s without (20 s in all); the computations
    themselves run no slower on 4 kB pages. Linux only (a no-op elsewhere);
    ``KEDRO_ML_TRANSPARENT_HUGE_PAGES=keep`` leaves the host's setting as it is
    (``off``, or unset, is the default); another value is refused, named.
    """
    choice = os.environ.get(KEEP_HUGE_PAGES, "off").strip().lower() or "off"
    if choice not in ("off", "keep"):
        raise ValueError(
            f"{KEEP_HUGE_PAGES}={os.environ[KEEP_HUGE_PAGES]!r}: use 'keep' to leave "
            "transparent huge pages as the host sets them, or 'off' (the default)"
        )
    if choice == "keep" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):  # no C library to ask, or no prctl in it
        return False


class Terminated(Exception):  # noqa: N818 - what happened, as KeyboardInterrupt says
    """The process was asked to stop (SIGTERM): raised where it runs, so the run fails cleanly."""


_TERMINATING = threading.Event()


def terminating() -> bool:
    """Whether the process was asked to stop (a ``Terminated`` may have been swallowed)."""
    return _TERMINATING.is_set()


def terminated_error() -> Terminated:
    return Terminated("stopped by signal SIGTERM: the run is marked failed")


def _terminated(signum: int, frame: object) -> None:
    # noted first: a library's broad `except Exception` may swallow the raise,
    # and the run's next node boundary raises again (kedro_ml.hooks.runs)
    _TERMINATING.set()
    raise terminated_error()


def fail_runs_on_termination() -> bool:
    """SIGTERM raises ``Terminated`` in the main thread instead of ending the process at once.

    A scheduler, a container stop or ``kill`` sends SIGTERM: by default the
    process ends without running a ``finally`` or Kedro's error hooks, and its
    MLflow runs stay RUNNING forever. As an exception (not a ``SystemExit``,
    which Kedro's runner would not treat as a failure), the node fails, the
    hooks mark the MLflow run FAILED and release the game's lock, and project
    commands close their own runs as failed. Where a library swallows it, the
    next node boundary raises it again (``terminating``). Only from the main
    thread.
    """
    if threading.current_thread() is not threading.main_thread():
        return False
    signal.signal(signal.SIGTERM, _terminated)
    return True


def tune_process() -> None:
    """What every entry point of the project does first (``kedro run``, project commands).

    Before any data is read: the run's arrays in small pages
    (``no_transparent_huge_pages``), no full collections over them when the
    interpreter exits (``no_collections_at_exit``), and SIGTERM failing the
    run cleanly (``fail_runs_on_termination``). Importing the project never
    does this: only a process the project starts itself.
    """
    no_transparent_huge_pages()
    no_collections_at_exit()
    fail_runs_on_termination()


# Runs started by a command that reports for them (the replay's months): their
# own progress lines, summaries and INFO logs stay out of the terminal.
class _QuietRuns:
    def __init__(self) -> None:
        self.depth = 0
        self.lock = threading.Lock()


_QUIET = _QuietRuns()


@contextlib.contextmanager
def quiet_runs(quiet: bool = True) -> Iterator[None]:
    """Kedro runs inside the block print warnings and errors only (when ``quiet``)."""
    if not quiet:
        yield
        return
    with _QUIET.lock:
        _QUIET.depth += 1
    try:
        yield
    finally:
        with _QUIET.lock:
            _QUIET.depth -= 1


def runs_are_quiet() -> bool:
    """Whether a run now is one of a command that reports for it (``quiet_runs``)."""
    return _QUIET.depth > 0


def _conf_source(argv: list[str]) -> str | None:
    """The ``--conf-source`` a command line names, or None."""
    for i, arg in enumerate(argv):
        if arg.startswith("--conf-source="):
            return arg.split("=", 1)[1]
        if arg == "--conf-source" and i + 1 < len(argv):
            return argv[i + 1]
    return None


def _logging_text(conf_source: str) -> str | None:
    """The text of the ``logging.yml`` at the top of a configuration folder or archive."""
    import tarfile
    import zipfile
    from pathlib import Path

    source = Path(conf_source)

    def top_level(name: str) -> bool:
        parts = Path(name).parts
        return parts[-1] == "logging.yml" and len(parts) <= 2

    try:
        if source.is_dir():
            found = source / "logging.yml"
            return found.read_text(encoding="utf-8") if found.is_file() else None
        if tarfile.is_tarfile(source):
            with tarfile.open(source) as archive:
                for member in archive.getmembers():
                    if member.isfile() and top_level(member.name):
                        return archive.extractfile(member).read().decode("utf-8")
        elif zipfile.is_zipfile(source):
            with zipfile.ZipFile(source) as archive:
                for name in archive.namelist():
                    if top_level(name):
                        return archive.read(name).decode("utf-8")
    except (OSError, UnicodeDecodeError, tarfile.TarError, zipfile.BadZipFile):
        return None
    return None


def use_project_logging(argv: list[str]) -> str | None:
    """Before Kedro is imported: log as the project's ``logging.yml`` says, for a run from the wheel.

    Kedro reads ``KEDRO_LOGGING_CONFIG``, else ``conf/logging.yml`` of the
    working folder, else its own defaults (every dataset load, library
    warnings). A run of the installed package (``python -m kedro_ml
    --conf-source=<archive>``) has no ``conf/`` folder: the configuration it
    names carries the project's ``logging.yml``, which Kedro is pointed at here
    (a temporary copy, removed at exit). Returns its path, or None.
    """
    import tempfile
    from pathlib import Path

    conf_source = _conf_source(argv)
    if conf_source is None or os.environ.get("KEDRO_LOGGING_CONFIG"):
        return None
    if (Path.cwd() / "conf" / "logging.yml").is_file():
        return None
    text = _logging_text(conf_source)
    if text is None:
        return None
    with tempfile.NamedTemporaryFile(
        "w", suffix="-logging.yml", delete=False, encoding="utf-8"
    ) as file:
        file.write(text)
    atexit.register(lambda: Path(file.name).unlink(missing_ok=True))
    os.environ["KEDRO_LOGGING_CONFIG"] = file.name
    return file.name
