"""A weighted ensemble of forecasts: non-negative weights summing to 1 that minimise the WMAE.

The weights solve a linear programme (exact weighted least absolute deviations on the
simplex, through its dual: HiGHS via :func:`scipy.optimize.linprog`) on the backtest
forecasts of the members, on at most ``max_rows`` rows sampled with a seed.
:func:`cross_fitted_forecasts` gives the ensemble's own backtest: each fold is forecast with
weights fit on the *other* folds, so its backtest score is as out-of-sample as the single models'.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field
from scipy.optimize import linprog

from retail_forecasting.metrics import holiday_weights

logger = logging.getLogger(__name__)


class EnsembleParams(BaseModel):
    """``modelling_ensemble`` parameters (``conf/base/parameters_modelling.yml``)."""

    model_config = ConfigDict(extra="forbid")

    max_rows: int = Field(30_000, ge=10, description="rows sampled to fit the weights")
    holiday_weight: float = Field(5.0, gt=0)
    seed: int = 0


def solve_weights(
    predictions: np.ndarray, actual: np.ndarray, row_weights: np.ndarray
) -> np.ndarray:
    """argmin_a sum_i w_i |y_i - P_i a| subject to a >= 0, sum(a) = 1 (an exact LP).

    Solved through its dual, which has one constraint per member instead of one per row:
    max_d d'y - t  s.t.  P'd <= t, |d_i| <= w_i; the weights are the constraints' multipliers.
    """
    n, k = predictions.shape
    if n == 0 or k == 0:
        raise ValueError("no forecasts to weight")
    cost = np.concatenate([-np.asarray(actual, dtype=float), [1.0]])
    a_ub = np.hstack([predictions.T, -np.ones((k, 1))])
    bounds = np.column_stack([-row_weights, row_weights]).tolist() + [(None, None)]
    result = linprog(cost, A_ub=a_ub, b_ub=np.zeros(k), bounds=bounds, method="highs")
    if not result.success:
        raise RuntimeError(f"ensemble weights: the LP failed ({result.message})")
    weights = np.clip(-result.ineqlin.marginals, 0, None)
    if weights.sum() <= 0:
        raise RuntimeError("ensemble weights: the LP returned no positive weight")
    return weights / weights.sum()


def fit_weights(
    frame: pd.DataFrame, members: list[str], params: EnsembleParams
) -> dict[str, float]:
    """``{member: weight}`` fit on (a seeded sample of) the rows of ``frame``."""
    if frame.empty:
        raise ValueError("no backtest rows to fit the ensemble on")
    rows = frame
    if len(rows) > params.max_rows:
        keep = np.random.default_rng(params.seed).choice(len(rows), params.max_rows, replace=False)
        rows = rows.iloc[np.sort(keep)]
    weights = solve_weights(
        rows[members].to_numpy(dtype=float),
        rows["actual"].to_numpy(dtype=float),
        holiday_weights(rows["is_holiday"], params.holiday_weight),
    )
    return {name: round(float(w), 6) for name, w in zip(members, weights, strict=True)}


def cross_fitted_forecasts(
    frame: pd.DataFrame, members: list[str], params: EnsembleParams
) -> np.ndarray:
    """The ensemble's backtest forecast of each row, with weights fit on the other folds
    (with a single fold, in-sample weights: logged as optimistic)."""
    cutoffs = frame["cutoff"].unique()
    forecast = np.full(len(frame), np.nan)
    for cutoff in cutoffs:
        fold = (frame["cutoff"] == cutoff).to_numpy()
        train = frame.loc[~fold] if len(cutoffs) > 1 else frame
        if len(cutoffs) == 1:
            logger.warning(
                "one backtest fold: the ensemble's backtest uses in-sample weights (optimistic)"
            )
        weights = fit_weights(train, members, params)
        forecast[fold] = frame.loc[fold, members].to_numpy(dtype=float) @ np.array(
            [weights[m] for m in members]
        )
    return forecast
