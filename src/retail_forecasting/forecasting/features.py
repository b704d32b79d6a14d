"""Features for the learners, leakage-free for a multi-week horizon by construction.

Strategy: **one direct model with the step as a feature**. A forecast for week ``t`` from origin
``T`` (step ``h = t - T`` weeks, 1 <= h <= horizon) uses

- calendar and holiday-position features of ``t`` and the known-in-advance covariates of ``t``
  (holiday flag, markdowns);
- seasonal target lags of ``t`` (52 and 104 weeks back, the holiday-aligned week of last year,
  a window around lag 52) — all at least ``horizon`` weeks back, checked;
- a decomposition base: each lag minus the 52-week level around it (the window cut at the
  origin) is a seasonal effect; ``decomposition_base`` = the 52-week level at the origin plus the
  mean effect — the unsmoothed forecast of :mod:`.decomposition`, which learners with
  ``target: residual`` correct instead of predicting sales from scratch;
- origin features, read at ``T`` from the :class:`~.history.History` (which holds nothing after
  the cutoff): last value, moving levels over 4/13/52 weeks, year-over-year growth, series age,
  and the observed covariates (temperature, fuel price, CPI, unemployment) as of ``T``;
- statics: store, store type, store size, department.

Training rows get a pseudo-origin ``t - h`` with ``h`` drawn (seeded) from 1..horizon, so the
model learns every step with the same features it will see at prediction time. Nothing is
computed per series in Python: lookups are numpy fancy indexing on the history matrix.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from retail_forecasting.calendar import aligned_previous_year, calendar_features
from retail_forecasting.forecasting.contract import (
    ID_COLUMNS,
    MARKDOWNS,
    TARGET,
    TIME_COLUMN,
    CovariateRoles,
)
from retail_forecasting.forecasting.history import WEEK, History, mean_of_known

logger = logging.getLogger(__name__)

STORE_TYPES = {"A": 0, "B": 1, "C": 2}
LEVEL_WINDOW = 52  # weeks of the level around a seasonal lag (one season)


class FeatureParams(BaseModel):
    """``feature_engineering`` parameters (``conf/base/parameters_feature_engineering.yml``)."""

    model_config = ConfigDict(extra="forbid")

    seasonal_lags: list[int] = Field(default=[52, 104], min_length=1)
    seasonal_window: int = Field(1, ge=0, description="half-width of the window around lag 52")
    holiday_window: int = Field(2, ge=0)
    origin_windows: list[int] = Field(default=[4, 13, 52], min_length=1)
    growth_window: int = Field(13, ge=1)
    steps_per_row: int = Field(1, ge=1, description="pseudo-origins per training row")
    seed: int = 0
    covariates: CovariateRoles = CovariateRoles()

    @property
    def longest_horizon(self) -> int:
        """The longest horizon the seasonal features serve: their shortest fixed lookup (lag 52
        and the shortest ``seasonal_lags``; the window around lag 52 and the holiday-aligned
        lag are cut to lookups >= the horizon)."""
        return min([*self.seasonal_lags, 52])

    def check_horizon(self, horizon: int) -> None:
        """Refuse any target lookup that could reach into the forecast window."""
        if self.longest_horizon < horizon:
            raise ValueError(
                f"a seasonal lookup {self.longest_horizon} weeks back is shorter than "
                f"horizon_weeks={horizon}: it would read targets inside the forecast window "
                "(leakage). Use a horizon "
                f"of at most {self.longest_horizon} weeks, or seasonal_lags >= the horizon."
            )

    def window_reach(self, horizon: int) -> tuple[int, int]:
        """``(nearest, length)`` of the window around lag 52: weeks ``52 - seasonal_window`` ..
        ``52 + seasonal_window`` back, without the ones nearer than ``horizon`` weeks."""
        nearest = max(52 - self.seasonal_window, horizon)
        return nearest, 52 + self.seasonal_window - nearest + 1


def feature_columns(params: FeatureParams) -> list[str]:
    """Names of the feature columns, in order."""
    calendar = ["week_of_year", "month", "year", "day_of_year", "pre_christmas_days"]
    holidays = [f"weeks_to_{h}" for h in ("super_bowl", "labor_day", "thanksgiving", "christmas")]
    statics = ["store", "dept", "store_type_code", "store_size"]
    known = list(params.covariates.known_in_advance)
    if set(MARKDOWNS) <= set(known):
        known.append("markdown_total")
    seasonal = [f"lag_{k}" for k in params.seasonal_lags] + [
        "lag_aligned",
        "lag_52_window",
        "seasonal_mean",
    ]
    seasonal += [f"seasonal_effect_{k}" for k in params.seasonal_lags] + ["decomposition_base"]
    origin = [
        "step",
        "last_value",
        *[f"level_{k}" for k in params.origin_windows],
        "growth",
        "age_weeks",
    ]
    observed = [f"{name}_at_origin" for name in params.covariates.observed]
    return [*calendar, *holidays, *statics, *known, *seasonal, *origin, *observed]


def make_features(
    history: History,
    rows: pd.DataFrame,
    origin_weeks: np.ndarray,
    params: FeatureParams,
    horizon: int,
) -> pd.DataFrame:
    """Features of ``rows`` (store, dept, date, statics, known covariates) from their origins.

    ``origin_weeks`` gives each row's origin as a week index of ``history``; every origin must
    be at or before the history's cutoff and at most ``horizon`` weeks before the row's week.
    The target column of ``rows``, if present, is never read.
    """
    params.check_horizon(horizon)
    absent = [c for c in params.covariates.observed if c not in history.covariates]
    if absent:
        raise ValueError(f"the history was built without the observed covariates {absent}")
    origin = np.asarray(origin_weeks, dtype=np.int64)
    week = history.week_index(rows[TIME_COLUMN])
    step = week - origin
    if (origin > history.origin_week).any():
        raise ValueError("an origin lies after the history's cutoff")
    if ((step < 1) | (step > horizon)).any():
        raise ValueError(f"steps must be within 1..{horizon}, got {step.min()}..{step.max()}")

    series = history.series_index(rows)
    out = pd.DataFrame(index=rows.index)

    cal = calendar_features(rows[TIME_COLUMN], params.holiday_window)
    cal_rows = cal.reindex(rows[TIME_COLUMN]).to_numpy()
    for i, column in enumerate(cal.columns):
        out[column] = cal_rows[:, i]

    out["store"] = rows["store"].to_numpy()
    out["dept"] = rows["dept"].to_numpy()
    out["store_type_code"] = rows["store_type"].map(STORE_TYPES).fillna(-1).to_numpy(dtype=np.int64)
    out["store_size"] = rows["store_size"].to_numpy(dtype=float)

    for name in params.covariates.known_in_advance:
        out[name] = rows[name].to_numpy(dtype=float)
    if set(MARKDOWNS) <= set(params.covariates.known_in_advance):
        out["markdown_total"] = rows[MARKDOWNS].sum(axis=1, min_count=1).to_numpy(dtype=float)

    lags = {k: history.value_at(series, week - k) for k in params.seasonal_lags}
    for k, values in lags.items():
        out[f"lag_{k}"] = values
    aligned = aligned_previous_year(rows[TIME_COLUMN], params.holiday_window)
    aligned_week = history.week_index(aligned.reindex(rows[TIME_COLUMN]))
    # a holiday that moved by 51 weeks would put its aligned week inside a 52-week horizon:
    # there (only possible at horizons >= 52) the plain lag 52 is used
    aligned_week = np.where(week - aligned_week < horizon, week - 52, aligned_week)
    out["lag_aligned"] = history.value_at(series, aligned_week)
    nearest, length = params.window_reach(horizon)
    out["lag_52_window"] = history.window_mean(series, week - nearest, length)
    out["seasonal_mean"] = mean_of_known(np.vstack(list(lags.values())))

    # seasonal effect: the lag minus the level of the 52 weeks centred on it, cut at the origin
    effects = []
    for k, values in lags.items():
        end = np.minimum(week - k + LEVEL_WINDOW // 2 - 1, origin)
        effects.append(values - history.window_mean(series, end, LEVEL_WINDOW))
        out[f"seasonal_effect_{k}"] = effects[-1]
    out["decomposition_base"] = history.window_mean(series, origin, LEVEL_WINDOW) + mean_of_known(
        np.vstack(effects)
    )

    out["step"] = step
    out["last_value"] = history.value_at(series, origin)
    for k in params.origin_windows:
        out[f"level_{k}"] = history.window_mean(series, origin, k)
    g = params.growth_window
    now, before = (
        history.window_mean(series, origin, g),
        history.window_mean(series, origin - 52, g),
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        out["growth"] = np.where(np.abs(before) > 1e-9, now / before, np.nan)
    first = np.where(series >= 0, history.first_week[np.maximum(series, 0)], origin + 1)
    out["age_weeks"] = (origin - first).astype(float)  # negative: series unseen at the origin

    for name in params.covariates.observed:
        out[f"{name}_at_origin"] = history.covariate_at(name, rows["store"].to_numpy(), origin)
    return _compact(out[feature_columns(params)])


def _compact(frame: pd.DataFrame) -> pd.DataFrame:
    """Float features as float32: half the memory of a training frame, and precision to spare
    (7 significant digits: a cent on weekly sales up to 100,000 USD; the learners bin or scale
    every feature anyway). Integer and categorical columns keep their type."""
    floats = frame.columns[frame.dtypes == np.float64]
    return frame.astype(dict.fromkeys(floats, np.float32), copy=False)


def training_frame(
    history: History,
    panel: pd.DataFrame,
    params: FeatureParams,
    horizon: int,
    select: Callable[[pd.DataFrame], np.ndarray] | None = None,
) -> pd.DataFrame:
    """Training rows at the history's cutoff: every panel row dated <= cutoff, each paired with
    ``steps_per_row`` pseudo-origins ``h`` weeks earlier (h seeded in 1..horizon).

    ``select``, if given, picks the rows to keep (positions into the candidate rows: the ids
    and date of every (row, pseudo-origin) pair, in the order of the full frame); features
    are built for those rows only, so a learner's sample costs memory in proportion to the
    sample, not to the data. The rows kept are the ones the full frame would have at those
    positions (the pseudo-origins are drawn for every row first).

    Returns the features plus ``weekly_sales``, ``is_holiday``, ``date`` and the ids.
    It is :func:`pseudo_origins`, then :func:`training_candidates`, then
    :func:`training_rows` (a partitioned engine draws the origins once for the whole panel and
    runs the other two on each department's rows).
    """
    past = panel.loc[panel[TIME_COLUMN] <= history.cutoff]
    position, origin = training_candidates(pseudo_origins(history, past, params, horizon))
    return training_rows(history, past, position, origin, params, horizon, select)


def pseudo_origins(
    history: History, past: pd.DataFrame, params: FeatureParams, horizon: int
) -> np.ndarray:
    """The pseudo-origin week of every row of ``past``, one row of the result per pass
    (``steps_per_row`` passes, shape ``(steps_per_row, len(past))``): the row's week minus
    ``h`` drawn from one generator seeded by ``params.seed`` (h in 1..horizon). Negative: the
    origin falls before the first week, the pair is not a training row. Only the dates are read."""
    rng = np.random.default_rng(params.seed)
    weeks = history.week_index(past[TIME_COLUMN])
    return np.array(
        [weeks - rng.integers(1, horizon + 1, size=len(past)) for _ in range(params.steps_per_row)]
    ).reshape(params.steps_per_row, len(past))


def training_candidates(origins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(position, origin)`` of every (row, pseudo-origin) pair that is a training row (origin
    at or after the first week), pass by pass, each pass in row order."""
    kept = [np.flatnonzero(origin >= 0) for origin in origins]
    return (
        np.concatenate(kept),
        np.concatenate([origin[keep] for origin, keep in zip(origins, kept, strict=True)]),
    )


def training_rows(
    history: History,
    past: pd.DataFrame,
    position: np.ndarray,
    origin: np.ndarray,
    params: FeatureParams,
    horizon: int,
    select: Callable[[pd.DataFrame], np.ndarray] | None = None,
) -> pd.DataFrame:
    """The training frame of the candidate pairs ``(position into past, origin)`` of
    :func:`training_candidates` (or of those ``select`` picks; see :func:`training_frame`)."""
    if select is not None:
        keys = past[[*ID_COLUMNS, TIME_COLUMN]].iloc[position].reset_index(drop=True)
        chosen = np.asarray(select(keys), dtype=np.int64)
        position, origin = position[chosen], origin[chosen]
    rows = past.iloc[position].reset_index(drop=True)
    return _with_keys(make_features(history, rows, origin, params, horizon), rows)


def forecast_frame(
    history: History, future: pd.DataFrame, params: FeatureParams, horizon: int
) -> pd.DataFrame:
    """Features of the rows to forecast, all from the history's cutoff as origin."""
    rows = future.drop(columns=[TARGET], errors="ignore")  # the target is never an input
    origin = np.full(len(rows), history.origin_week, dtype=np.int64)
    features = make_features(history, rows, origin, params, horizon)
    return _with_keys(features, rows)


def _with_keys(features: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """Features plus the date, the holiday flag (metric weights) and the target when present."""
    frame = features.assign(
        date=rows[TIME_COLUMN].to_numpy(), is_holiday=rows["is_holiday"].to_numpy()
    )
    if TARGET in rows:
        frame[TARGET] = rows[TARGET].to_numpy()
    return frame


def origin_before(panel: pd.DataFrame, split: str) -> pd.Timestamp:
    """The cutoff from which ``split`` is forecast: the last week before it starts."""
    return panel.loc[panel["split"] == split, TIME_COLUMN].min() - WEEK


__all__ = [
    "FeatureParams",
    "feature_columns",
    "make_features",
    "training_frame",
    "pseudo_origins",
    "training_candidates",
    "training_rows",
    "forecast_frame",
    "origin_before",
]
