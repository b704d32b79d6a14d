"""The weighted ensemble: non-negative weights summing to 1 that minimise the WMAE, and a
cross-fitted backtest."""

import numpy as np
import pandas as pd
import pytest

from retail_forecasting.forecasting.ensemble import (
    EnsembleParams,
    cross_fitted_forecasts,
    fit_weights,
    solve_weights,
)


def test_weights_recover_a_known_mix_and_ignore_a_useless_member():
    rng = np.random.default_rng(0)
    a, b, junk = rng.normal(100, 20, 500), rng.normal(100, 20, 500), rng.normal(0, 1000, 500)
    actual = 0.3 * a + 0.7 * b
    weights = solve_weights(np.column_stack([a, b, junk]), actual, np.ones(500))
    np.testing.assert_allclose(weights, [0.3, 0.7, 0.0], atol=1e-6)


def test_weights_are_non_negative_and_sum_to_one_even_when_a_negative_weight_fits_better():
    rng = np.random.default_rng(1)
    a, b = rng.normal(100, 20, 300), rng.normal(100, 20, 300)
    actual = 1.5 * a - 0.5 * b  # the unconstrained fit would be (1.5, -0.5)
    weights = solve_weights(np.column_stack([a, b]), actual, np.ones(300))
    assert weights.min() >= 0 and weights.sum() == pytest.approx(1.0)
    assert weights[0] == pytest.approx(1.0)


def test_holiday_rows_weigh_five_times():
    # a is exact on the holiday row, b on the three ordinary rows: the WMAE (50 vs 15) prefers
    # a, the plain MAE (10 vs 15) prefers b
    frame = pd.DataFrame(
        {
            "a": [10.0, 0.0, 0.0, 0.0],
            "b": [0.0, 5.0, 5.0, 5.0],
            "actual": [10.0, 5.0, 5.0, 5.0],
            "is_holiday": [True, False, False, False],
        }
    )
    assert fit_weights(frame, ["a", "b"], EnsembleParams()) == {"a": 1.0, "b": 0.0}
    assert fit_weights(frame, ["a", "b"], EnsembleParams(holiday_weight=1.0)) == {
        "a": 0.0,
        "b": 1.0,
    }


def test_cross_fitted_backtest_uses_weights_from_the_other_folds():
    # fold 1: a is right; fold 2: b is right. Each fold gets the other fold's weights.
    frame = pd.DataFrame(
        {
            "cutoff": pd.to_datetime(["2011-01-07"] * 2 + ["2011-03-04"] * 2),
            "a": [1.0, 2.0, 0.0, 0.0],
            "b": [0.0, 0.0, 3.0, 4.0],
            "actual": [1.0, 2.0, 3.0, 4.0],
            "is_holiday": False,
        }
    )
    forecast = cross_fitted_forecasts(frame, ["a", "b"], EnsembleParams())
    np.testing.assert_allclose(
        forecast, [0.0, 0.0, 0.0, 0.0]
    )  # fold 1 with b's weight 1, fold 2 with a's
