"""Errors the project raises on purpose, told as messages: what is wrong, where, what to do.

Every exception class defined in ``kedro_ml`` (raw data, parameters, models,
the registry, the online store, the replay, locks) is raised with a message
written for the user; so are Kedro's ``DatasetError`` (a file that is missing
or cannot be read) and its configuration errors. ``message(error)`` finds
such an error in what a command raised (Kedro wraps a dataset's own error in
its ``DatasetError``; the innermost project message is the one written for
the user) and returns its text, with the node it failed in when the run
noted it (``kedro_ml.hooks.errors.NodeErrors``). A tracking server that
stops answering mid-command is told as such (``lost_server``). Anything else is
a bug and keeps its traceback. ``KEDRO_ML_TRACEBACK=1`` keeps every traceback.
"""

from __future__ import annotations

import os
import re

TRACEBACK_ENV = "KEDRO_ML_TRACEBACK"
# what a note added to an error by the run says before the node's name
NODE_NOTE = "in node "

# errors of libraries the project relies on whose messages are for users
_USER_FACING = {
    ("kedro.io.core", "DatasetError"),
    ("kedro.io.core", "DatasetNotFoundError"),
    ("kedro.config.abstract_config", "MissingConfigException"),
    ("kedro.config.abstract_config", "BadConfigException"),
}


def tracebacks_wanted() -> bool:
    """Whether ``KEDRO_ML_TRACEBACK`` asks for tracebacks (any value but empty, 0, false, no)."""
    value = os.environ.get(TRACEBACK_ENV, "").strip().lower()
    return value not in ("", "0", "false", "no")


def _chain(error: BaseException) -> list[BaseException]:
    """``error`` and the errors it was raised from or during, outermost first."""
    chain: list[BaseException] = []
    while error is not None and error not in chain:
        chain.append(error)
        error = error.__cause__ or error.__context__
    return chain


def _ours(error: BaseException) -> bool:
    return type(error).__module__.split(".")[0] == "kedro_ml"


def _user_facing(error: BaseException) -> bool:
    return any(
        (cls.__module__, cls.__name__) in _USER_FACING for cls in type(error).__mro__
    )


def node_of(error: BaseException) -> str | None:
    """The node an error was raised in, as the run noted it."""
    for cause in _chain(error):
        for note in getattr(cause, "__notes__", ()):
            if note.startswith(NODE_NOTE):
                return note[len(NODE_NOTE) :]
    return None


# MLflow's words for a request that never reached a server (after its retries),
# and the causes worth naming, most telling first
_REQUEST_FAILED = re.compile(
    r"API request to (?P<server>https?://[^/\s]+)\S* failed with exception"
)
_REASONS = (
    "Connection refused",
    "Name or service not known",
    "Connection reset",
    "RemoteDisconnected",
    "Read timed out",
    "timed out",
    "Max retries exceeded",
)


def lost_server(error: BaseException) -> str | None:
    """What to tell when ``error`` (or what it came from) is a tracking server that stopped answering."""
    for cause in _chain(error):
        text = str(cause)
        found = _REQUEST_FAILED.search(text)
        if found:
            reason = next((r for r in _REASONS if r in text), "no answer")
            return (
                f"The MLflow tracking server at {found['server']} stopped answering "
                f"({reason}). What the run logged until then stays on the server; the "
                "champion is what its alias said before (a version registered without "
                "the alias moved is not the champion). Start the server (make "
                "stack-status says what runs) and run the command again."
            )
    return None


def message(error: BaseException) -> str | None:
    """The message written for the user in ``error`` (or what it came from), or None for a bug."""
    chain = _chain(error)
    chosen = next((e for e in reversed(chain) if _ours(e)), None)
    if chosen is None:
        chosen = next((e for e in chain if _user_facing(e)), None)
    lost = lost_server(error)
    if lost is not None:  # whatever wrapped it, the cause is the server
        node = node_of(error)
        return f"{node} failed: {lost}" if node else lost
    if chosen is None:
        return None
    text = str(chosen).strip() or type(chosen).__name__
    node = node_of(error)
    return f"{node} failed: {text}" if node else text
