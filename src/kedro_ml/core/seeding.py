"""``@log_seed``: repeatable randomness for nodes.

A decorated node takes a ``seed`` argument (from ``params:``). When it is null,
a seed is drawn. Either way the seed is logged as ``Using random seed: N``,
Python's and NumPy's global generators are seeded with it, and the node
receives it, so it can hand it to an estimator's ``random_state``. Rerunning
with the logged seed repeats the run exactly.
"""

from __future__ import annotations

import functools
import inspect
import logging
import random
import secrets
from collections.abc import Callable
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)


def resolve_seed(seed: int | None) -> int:
    """``seed`` itself, or a freshly drawn one when it is None."""
    return int(seed) if seed is not None else secrets.randbelow(2**31 - 1)


def log_seed(func: Callable[..., Any]) -> Callable[..., Any]:
    """Resolve, log and apply the ``seed`` argument of ``func`` before calling it."""
    signature = inspect.signature(func)
    if "seed" not in signature.parameters:
        raise TypeError(f"@log_seed needs a 'seed' parameter on {func.__name__}")

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        seed = resolve_seed(bound.arguments["seed"])
        logger.info("Using random seed: %d", seed)
        random.seed(seed)
        np.random.seed(seed)  # noqa: NPY002 - seeds libraries that use the global generator
        bound.arguments["seed"] = seed
        return func(*bound.args, **bound.kwargs)

    return wrapper
