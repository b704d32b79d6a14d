"""Tuning helpers shared by the models: the points of a search grid and the seeded subset of them
that is tried.

A search space is ``{name: [values]}`` (``search_space`` in ``conf/base/
parameters_modelling.yml``); the first listed value of each name is the default, so the grid's
first point is the configuration one would run without tuning. The statistical model tries every
point (:func:`grid_points`, :func:`retail_forecasting.forecasting.decomposition.tune`); a learner
tries a fixed, seeded subset of at most ``max_candidates`` points (:func:`candidates`,
:func:`retail_forecasting.forecasting.learners.tune`), the first point always among them. Both
are deterministic: the same grid and seed give the same points in the same order.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np


def grid_points(search_space: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every point of a grid ``{name: [values]}``, the first listed values first.

    ``[{}]`` if the grid is empty.
    """
    keys = list(search_space)
    return [
        dict(zip(keys, values, strict=True)) for values in itertools.product(*search_space.values())
    ] or [{}]


def candidates(
    search_space: dict[str, list[Any]], max_candidates: int, seed: int
) -> list[dict[str, Any]]:
    """The grid of ``search_space``; a seeded random subset of ``max_candidates`` points if
    larger (the grid's first point, the listed defaults, is always kept)."""
    grid = grid_points(search_space)
    if len(grid) <= max_candidates:
        return grid
    rest = np.random.default_rng(seed).choice(
        np.arange(1, len(grid)), max_candidates - 1, replace=False
    )
    return [grid[0], *(grid[i] for i in sorted(rest))]


__all__ = ["candidates", "grid_points"]
