"""Baseline forecasters. Each is a function ``(history, future) -> forecasts`` of the rows in
``future`` from the history's cutoff, vectorised over all series.

- ``naive``: the value at the origin.
- ``seasonal_naive``: the value 52 weeks before the forecast week.
- ``holiday_aligned_seasonal_naive``: the value of the week in the same position relative to
  the nearest holiday last year (Thanksgiving to Thanksgiving, Christmas to Christmas), else
  52 weeks back — see :func:`retail_forecasting.calendar.aligned_previous_year`.
- ``moving_average``: the mean of the last ``moving_average_window`` weeks up to the origin.
- ``seasonal_average``: the mean of the same week over up to ``seasonal_average_years`` past years.
- ``hybrid``: a weighted blend of the above (``hybrid_weights``, normalised to sum to 1).

Fallback (one chain for every baseline): where a baseline has no value — the week it looks up
is before the series' first row, or the series is unseen at the origin — it takes the series'
mean over the ``fallback_window`` weeks up to the origin; for a series that appears after the
origin, the mean of that level over the other stores' series of the same department; for a
department unseen at the origin, 0.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from retail_forecasting.calendar import aligned_previous_year
from retail_forecasting.forecasting.contract import TIME_COLUMN, Forecaster
from retail_forecasting.forecasting.history import History, mean_of_known
from retail_forecasting.forecasting.partitioned import per_department

logger = logging.getLogger(__name__)

COMPONENTS = (
    "naive",
    "seasonal_naive",
    "holiday_aligned_seasonal_naive",
    "moving_average",
    "seasonal_average",
)


class BaselineParams(BaseModel):
    """``baselines`` parameters (``conf/base/parameters_baselines.yml``)."""

    model_config = ConfigDict(extra="forbid")

    season_length: int = Field(52, ge=1)
    holiday_window: int = Field(2, ge=0)
    moving_average_window: int = Field(8, ge=1)
    seasonal_average_years: int = Field(3, ge=1)
    fallback_window: int = Field(52, ge=1)
    hybrid_weights: dict[str, float] = {
        "holiday_aligned_seasonal_naive": 0.5,
        "seasonal_average": 0.5,
    }

    @field_validator("hybrid_weights")
    @classmethod
    def _weights(cls, weights: dict[str, float]) -> dict[str, float]:
        unknown = set(weights) - set(COMPONENTS)
        if unknown:
            raise ValueError(
                f"hybrid_weights name unknown baselines {sorted(unknown)}; choose from {COMPONENTS}"
            )
        if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
            raise ValueError("hybrid_weights must be non-negative and not all zero")
        total = sum(weights.values())
        return {name: w / total for name, w in weights.items()}


def _positions(history: History, future: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    return history.series_index(future), history.week_index(future[TIME_COLUMN])


def fallback(history: History, future: pd.DataFrame, values: np.ndarray, window: int) -> np.ndarray:
    """Fill the NaN of ``values`` with the documented fallback chain (module docstring)."""
    values = np.asarray(values, dtype=float).copy()
    missing = np.isnan(values)
    if not missing.any():
        return values
    series = history.series_index(future)
    level = history.window_mean(series, np.full(len(future), history.origin_week), window)
    values[missing] = level[missing]
    missing = np.isnan(values)
    if missing.any():
        all_levels = history.window_mean(
            np.arange(len(history.series)),
            np.full(len(history.series), history.origin_week),
            window,
        )
        dept_level = pd.Series(all_levels).groupby(history.series.get_level_values("dept")).mean()
        by_dept = future["dept"].map(dept_level).to_numpy(dtype=float)
        values[missing] = by_dept[missing]
    return np.nan_to_num(values, nan=0.0)


def naive(history: History, future: pd.DataFrame, params: BaselineParams) -> np.ndarray:
    series, _ = _positions(history, future)
    return history.value_at(series, np.full(len(future), history.origin_week))


def seasonal_naive(history: History, future: pd.DataFrame, params: BaselineParams) -> np.ndarray:
    series, week = _positions(history, future)
    return history.value_at(series, week - params.season_length)


def holiday_aligned_seasonal_naive(
    history: History, future: pd.DataFrame, params: BaselineParams
) -> np.ndarray:
    series, _ = _positions(history, future)
    aligned = aligned_previous_year(future[TIME_COLUMN], params.holiday_window)
    return history.value_at(series, history.week_index(aligned.reindex(future[TIME_COLUMN])))


def moving_average(history: History, future: pd.DataFrame, params: BaselineParams) -> np.ndarray:
    series, _ = _positions(history, future)
    origin = np.full(len(future), history.origin_week)
    return history.window_mean(series, origin, params.moving_average_window)


def seasonal_average(history: History, future: pd.DataFrame, params: BaselineParams) -> np.ndarray:
    series, week = _positions(history, future)
    years = np.vstack(
        [
            history.value_at(series, week - params.season_length * j)
            for j in range(1, params.seasonal_average_years + 1)
        ]
    )
    return mean_of_known(years)


_FUNCTIONS = {
    "naive": naive,
    "seasonal_naive": seasonal_naive,
    "holiday_aligned_seasonal_naive": holiday_aligned_seasonal_naive,
    "moving_average": moving_average,
    "seasonal_average": seasonal_average,
}


def make_baselines(params: BaselineParams) -> dict[str, Forecaster]:
    """The named baseline forecasters, each with the fallback chain applied; plus ``hybrid``."""

    def with_fallback(function):
        def forecast(history: History, future: pd.DataFrame) -> np.ndarray:
            raw = function(history, future, params)
            n_missing = int(np.isnan(raw).sum())
            if n_missing:
                logger.debug(
                    "%s: %d of %d forecasts use the fallback",
                    function.__name__,
                    n_missing,
                    len(raw),
                )
            return fallback(history, future, raw, params.fallback_window)

        forecast.__name__ = function.__name__
        return forecast

    # each forecasts a department from its own series (fallback: its department's level), so a
    # distributed engine may run them department by department (forecasting.partitioned)
    forecasters: dict[str, Forecaster] = {
        name: per_department(with_fallback(f)) for name, f in _FUNCTIONS.items()
    }

    def hybrid(history: History, future: pd.DataFrame) -> np.ndarray:
        total = np.zeros(len(future))
        for name, w in params.hybrid_weights.items():
            total = total + w * forecasters[name](history, future)
        return total

    forecasters["hybrid"] = per_department(hybrid)
    return forecasters
