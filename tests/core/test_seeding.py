"""``@log_seed``: the seed is resolved, logged, applied and passed on."""

from __future__ import annotations

import logging
import random

import numpy as np
import pytest

from kedro_ml.core.seeding import log_seed


@log_seed
def _draw(n: int, seed: int | None = None) -> tuple[int, float, float]:
    return seed, random.random(), float(np.random.rand())  # noqa: NPY002 - the global generator is the point


def test_given_seed_is_logged_applied_and_passed(caplog):
    with caplog.at_level(logging.INFO, logger="kedro_ml.core.seeding"):
        first = _draw(1, seed=123)
    assert "Using random seed: 123" in caplog.text
    assert first[0] == 123
    assert _draw(1, 123) == first  # positional or keyword, same result


def test_null_seed_is_drawn_logged_and_repeatable(caplog):
    with caplog.at_level(logging.INFO, logger="kedro_ml.core.seeding"):
        seed, a, b = _draw(1, seed=None)
    assert f"Using random seed: {seed}" in caplog.text
    assert _draw(1, seed=seed) == (seed, a, b)


def test_needs_a_seed_parameter():
    with pytest.raises(TypeError, match="'seed'"):
        log_seed(lambda x: x)
