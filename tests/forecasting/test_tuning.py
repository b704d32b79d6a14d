"""Tuning helpers: the grid's points in order, and the seeded subset a learner tries."""

from __future__ import annotations

import pytest

from retail_forecasting.forecasting.tuning import candidates, grid_points


def test_grid_points_start_with_the_listed_defaults_and_cover_the_grid():
    points = grid_points({"a": [1, 2, 3], "b": [10, 20]})
    assert points[0] == {"a": 1, "b": 10} and len(points) == 6
    assert {(p["a"], p["b"]) for p in points} == {(a, b) for a in (1, 2, 3) for b in (10, 20)}
    assert grid_points({}) == [{}]


def test_candidates_are_the_grid_or_a_seeded_subset_keeping_the_first_point():
    space = {"a": [1, 2, 3], "b": [10, 20]}
    picked = candidates(space, max_candidates=3, seed=0)
    assert len(picked) == 3 and picked[0] == {"a": 1, "b": 10}
    assert picked == candidates(space, max_candidates=3, seed=0)  # seeded
    assert len({str(candidates(space, 3, seed)) for seed in range(10)}) > 1  # the seed matters
    assert candidates(space, max_candidates=10, seed=0) == grid_points(space)
    assert candidates({}, max_candidates=4, seed=0) == [{}]


@pytest.mark.parametrize("seed", [0, 42])
def test_the_subset_is_the_one_earlier_releases_drew(seed):
    """The subset drawn from learners' former candidates(): numpy's seeded choice over the grid
    points after the first, sorted (the tuned models of earlier runs stay reproducible)."""
    import numpy as np

    space = {"num_leaves": [63, 31, 127], "min_data_in_leaf": [50, 20, 200], "lr": [0.2, 0.1]}
    grid = grid_points(space)
    rest = np.random.default_rng(seed).choice(np.arange(1, len(grid)), 5, replace=False)
    assert candidates(space, 6, seed) == [grid[0], *(grid[i] for i in sorted(rest))]
