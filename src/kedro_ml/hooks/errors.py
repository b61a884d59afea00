"""``NodeErrors``: an error raised in a node carries the node's name to the message.

Kedro logs a failing node with its whole signature and the error's text; the
project's commands print the error once, as a message naming the node
(``kedro_ml.errors``), so the hook only notes which node it was.
"""

from __future__ import annotations

from kedro.framework.hooks import hook_impl
from kedro.pipeline import Node

from kedro_ml.errors import NODE_NOTE


class NodeErrors:
    """Note the failing node's name on its error (``error.__notes__``)."""

    @hook_impl
    def on_node_error(self, error: Exception, node: Node) -> None:
        if not any(n.startswith(NODE_NOTE) for n in getattr(error, "__notes__", ())):
            error.add_note(f"{NODE_NOTE}{node.name}")
