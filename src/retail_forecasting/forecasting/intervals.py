"""Prediction intervals: split-conformal quantiles of scaled backtest residuals.

Any model that has a rolling-origin backtest (:func:`.backtest.cross_validation`) gets
quantile forecasts the same way, so the zoo, the ensemble, the baselines and the registered
champion are treated alike:

1. **Scale** (:func:`series_scale`): each row's error is divided by a robust scale of its
   series **known at the row's cutoff** — by default the mean absolute week-to-week change
   over the last ``scale_window`` weeks of the history, leaving out the changes into, within
   and out of the ``peak_season`` weeks (``abs_diff_off_peak``: a window that holds a Christmas
   and one that does not give comparable scales) (:class:`.history.History`: nothing
   after the cutoff exists there). Departments differ by orders of magnitude; scaled errors do
   not. A series unseen at the cutoff takes its department's median scale (else the median of
   all series); every scale is at least ``min_scale``.
2. **Calibrate** (:func:`calibrate`): the quantiles of the scaled residuals
   ``(actual - forecast) / scale`` of the backtest rows, per bucket of ``step_bucket_weeks``
   horizon steps and per group of weeks known in advance (:func:`row_groups`: the peak season
   from Thanksgiving's week to the end of December, ``peak_season``; the other holiday weeks,
   ``by_holiday``; the rest); a group's bucket with fewer than ``min_bucket_rows`` rows takes
   the bucket's pooled quantiles times that group's spread relative to the other weeks'.
   The quantiles are asymmetric (each level is its own empirical quantile). Where the errors
   grow with the step they must not shrink: upper quantiles are made non-decreasing and lower
   ones non-increasing in the step by weighted isotonic regression (``monotone``). With
   ``by_store_type``, each store type's quantiles are those of the step and group times the
   type's own spread relative to all rows' (per quantile, over every step: the types share the
   calendar, so this is the one difference left; a type with under ``min_bucket_rows`` rows, or
   one not seen in calibration, keeps the pooled quantiles).
3. **Apply** (:meth:`IntervalModel.apply`):
   ``forecast + scale * q(step, group) * r(store type)``, floored at the lowest sales the
   series showed up to the cutoff (0 if it never went negative: weekly sales are rarely far
   below zero), then sorted per row, so quantiles never cross.
4. **Score** (:func:`score_intervals`): coverage, mean width, the interval (Winkler) score and
   the pinball loss, plain and with the WMAE's holiday weights, overall and per segment.

Quantile columns are named :func:`quantile_columns`: ``q0.025, q0.1, q0.5, q0.9, q0.975`` for
the default levels 80 and 95 (``Weekly_Sales_q0.1`` … in the pyfunc's output).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from retail_forecasting.forecasting.history import History
from retail_forecasting.metrics import HOLIDAY_WEIGHT, holiday_weights

logger = logging.getLogger(__name__)

SEGMENTS = ("step", "is_holiday", "store_type")


class IntervalParams(BaseModel):
    """``intervals`` parameters (``conf/base/parameters_evaluation.yml``)."""

    model_config = ConfigDict(extra="forbid")

    levels: tuple[float, ...] = Field(
        (80.0, 95.0), min_length=1, description="central interval levels, %"
    )
    scale: Literal["abs_diff", "abs_diff_off_peak", "mean_abs", "none"] = Field(
        "abs_diff_off_peak",
        description="per-series scale at the cutoff: mean |weekly change| (abs_diff_off_peak: "
        "leaving out the changes into or within the peak_season weeks) or mean |sales|",
    )
    scale_window: int = Field(
        52, ge=2, description="weeks of history (up to the cutoff) the scale reads"
    )
    min_scale: float = Field(1.0, gt=0, description="floor of any scale (USD)")
    scale_fit: bool = Field(
        True,
        description="the row's scale fitted on the calibration rows: log |residual| regressed "
        "on the log scale, the series' weekly change around last year's forecast week and over "
        "the last recent_weeks weeks (relative to the scale) and whether last year's week is "
        "known (SCALE_FEATURES)",
    )
    recent_weeks: int = Field(
        13, ge=2, description="weeks of history the recent weekly change reads (scale_fit)"
    )
    step_bucket_weeks: int = Field(
        4, ge=1, description="horizon steps pooled per calibration bucket"
    )
    by_holiday: bool = Field(True, description="holiday weeks calibrated apart from the others")
    peak_season: tuple[str, str] | None = Field(
        ("11-23", "12-31"),
        description="weeks ending in this span (MM-DD, inclusive) calibrated apart; null: off",
    )
    min_bucket_rows: int = Field(
        200, ge=1, description="a group's bucket with fewer rows uses the pooled bucket"
    )
    by_store_type: bool = Field(
        True, description="each store type's spread relative to all rows' (per quantile)"
    )
    monotone: bool = Field(True, description="interval never narrower at a later step")
    by_last_year: bool = Field(
        False,
        description="rows whose forecast week's last-year week (52 weeks back) is not in the "
        "series' history at the origin are calibrated apart from the others",
    )
    floor: Literal["history_min", "none"] = Field(
        "history_min",
        description="lowest value of a quantile: min(0, the series' lowest sales to the cutoff)",
    )

    @field_validator("levels")
    @classmethod
    def _levels(cls, levels: tuple[float, ...]) -> tuple[float, ...]:
        if any(not 0 < level < 100 for level in levels):
            raise ValueError(
                f"interval levels are percentages strictly between 0 and 100, got {levels}"
            )
        return tuple(sorted({float(level) for level in levels}))

    @property
    def quantiles(self) -> tuple[float, ...]:
        return quantile_levels(self.levels)


def quantile_levels(levels: Sequence[float]) -> tuple[float, ...]:
    """The quantiles of central intervals at ``levels`` (%), and the median, sorted:
    80 and 95 give (0.025, 0.1, 0.5, 0.9, 0.975)."""
    qs = {0.5}
    for level in levels:
        alpha = round((100.0 - float(level)) / 200.0, 10)
        qs |= {alpha, round(1.0 - alpha, 10)}
    return tuple(sorted(qs))


def quantile_name(q: float) -> str:
    """``0.1`` -> ``"0.1"``, ``0.025`` -> ``"0.025"`` (no trailing zeros)."""
    return f"{q:.10f}".rstrip("0").rstrip(".")


def quantile_columns(quantiles: Sequence[float], prefix: str = "q") -> list[str]:
    """Column names of the quantiles: ``q0.025, q0.1, …``; with ``prefix="Weekly_Sales_q"``
    the pyfunc's ``Weekly_Sales_q0.025, …``."""
    return [f"{prefix}{quantile_name(q)}" for q in quantiles]


def level_bounds(level: float) -> tuple[float, float]:
    """Lower and upper quantile of the central ``level`` % interval."""
    alpha = round((100.0 - float(level)) / 200.0, 10)
    return alpha, round(1.0 - alpha, 10)


def level_name(level: float) -> str:
    """``80.0`` -> ``"80"`` (the keys of ``metrics.json``'s ``intervals``)."""
    return quantile_name(level)


GROUPS = ("other", "holiday", "peak")
WEEK_DELTA = pd.Timedelta(weeks=1)


def row_groups(dates, is_holiday, params: IntervalParams) -> np.ndarray:
    """Calibration group of each row, from the calendar only (known in advance): 2 = a week
    ending in the ``peak_season`` span (Thanksgiving's week to Christmas, holiday or not), 1 =
    another holiday week (``by_holiday``), 0 = the rest."""
    holiday = np.asarray(is_holiday, dtype=bool)
    group = (
        holiday.astype(np.int64) if params.by_holiday else np.zeros(len(holiday), dtype=np.int64)
    )
    if params.peak_season is not None:
        group[_in_span(pd.DatetimeIndex(dates), params.peak_season)] = 2
    return group


def _in_span(dates: pd.DatetimeIndex, span: tuple[str, str]) -> np.ndarray:
    """Whether each date's month-day falls in ``span`` ("MM-DD", inclusive), compared as
    month x 100 + day (formatting every date as a string cost seconds per call)."""
    day = dates.month.to_numpy() * 100 + dates.day.to_numpy()
    start, end = (int(bound.replace("-", "")) for bound in span)
    return (day >= start) & (day <= end)


# ----------------------------------------------------------------------------- scale at the cutoff


def series_scale(
    history: History, rows: pd.DataFrame, params: IntervalParams
) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``rows`` (store, dept): the scale of its series and the floor of its
    quantiles, both from ``history`` only (nothing after its cutoff).

    Scale: mean |y_t - y_(t-1)| (``abs_diff``) or mean |y_t| (``mean_abs``) over the last
    ``scale_window`` weeks of the series' life; a series without history takes its department's
    median, else the median over all series; at least ``min_scale``. Floor: min(0, the series'
    lowest sales to the cutoff), 0 for unseen series; ``-inf`` with ``floor: none``.
    """
    y = history.y[:, -params.scale_window :]
    with _quiet():
        if params.scale == "abs_diff":
            per_series = np.nanmean(np.abs(np.diff(y, axis=1)), axis=1)
        elif params.scale == "abs_diff_off_peak":
            # the changes into, within and out of the peak season (Thanksgiving to Christmas) left
            # out: a window holding a season or not gives comparable scales
            change = np.abs(np.diff(y, axis=1))
            first = history.y.shape[1] - y.shape[1] + 1
            to_week = history.start + pd.to_timedelta(
                7 * np.arange(first, history.y.shape[1]), unit="D"
            )
            if params.peak_season is not None:
                peak = _in_span(to_week, params.peak_season) | _in_span(
                    to_week - WEEK_DELTA, params.peak_season
                )
                change[:, peak] = np.nan
            per_series = np.nanmean(change, axis=1)
        elif params.scale == "mean_abs":
            per_series = np.nanmean(np.abs(y), axis=1)
        else:
            per_series = np.ones(len(history.series))
    per_series = np.where(np.isfinite(per_series), per_series, np.nan)
    depts = history.series.get_level_values("dept").to_numpy()
    by_dept = pd.Series(per_series).groupby(depts).median()
    overall = float(np.nanmedian(per_series)) if np.isfinite(per_series).any() else params.min_scale

    index = history.series_index(rows)
    seen = index >= 0
    scale = np.full(len(rows), np.nan)
    scale[seen] = per_series[index[seen]]
    dept_scale = pd.Series(np.asarray(rows["dept"])).map(by_dept).to_numpy(dtype=float)
    scale = np.where(np.isnan(scale), dept_scale, scale)
    scale = np.where(np.isnan(scale), overall, scale)
    scale = np.maximum(scale, params.min_scale)

    if params.floor == "none":
        return scale, np.full(len(rows), -np.inf)
    with _quiet():
        lowest = np.nanmin(np.where(np.isnan(history.y), np.inf, history.y), axis=1)
    floor = np.zeros(len(rows))
    floor[seen] = np.minimum(0.0, lowest[index[seen]])
    return scale, floor


@contextmanager
def _quiet():
    """numpy's all-NaN-slice warnings are expected (series born late): silence them."""
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def last_year_known(history: History, rows: pd.DataFrame) -> np.ndarray:
    """Per row of ``rows`` (store, dept, date): whether the series' week 52 weeks before the
    forecast week is in ``history`` (inside the series' life and at or before the cutoff) — the
    week a seasonal forecast copies. Without it every model falls back to a level, and at a
    Christmas its error is the whole peak."""
    index = history.series_index(rows)
    week = history.week_index(rows["date"]) - 52
    seen = index >= 0
    first = np.where(seen, history.first_week[np.maximum(index, 0)], np.iinfo(np.int64).max)
    return seen & (week >= first) & (week <= history.origin_week)


# the columns attach_scales adds for the fitted scale (scale_fit), and the regressors built of them
SCALE_FEATURES = ("change_last_year", "change_recent")
LAST_YEAR_WINDOW = 2  # weeks either side of last year's forecast week (change_last_year)


def change_features(
    history: History, rows: pd.DataFrame, params: IntervalParams
) -> dict[str, np.ndarray]:
    """Per row of ``rows`` (store, dept, date), from ``history`` only: ``change_last_year``,
    the series' mean |weekly change| over the weeks within ``LAST_YEAR_WINDOW`` of the week 52
    weeks before the forecast week (how much the series moved around this time last year; a
    week after the cutoff does not exist in the history), and ``change_recent``, its mean
    |weekly change| over the last ``recent_weeks`` weeks; NaN where unknown."""
    index = history.series_index(rows)
    centre = history.week_index(rows["date"]) - 52
    total = np.zeros(len(rows))
    count = np.zeros(len(rows))
    for k in range(-LAST_YEAR_WINDOW, LAST_YEAR_WINDOW + 1):
        change = np.abs(
            history.value_at(index, centre + k) - history.value_at(index, centre + k - 1)
        )
        known = np.isfinite(change)
        total[known] += change[known]
        count[known] += 1
    with _quiet():
        recent = np.nanmean(np.abs(np.diff(history.y[:, -params.recent_weeks :], axis=1)), axis=1)
    seen = index >= 0
    return {
        "change_last_year": np.where(count > 0, total / np.maximum(count, 1), np.nan),
        "change_recent": np.where(seen, recent[np.maximum(index, 0)], np.nan),
    }


def scale_regressors(
    scale: np.ndarray, last_year: np.ndarray | None, features: dict[str, np.ndarray], floor: float
) -> np.ndarray:
    """(n rows, 6) regressors of the fitted scale: 1, log scale, log(change_last_year / scale)
    (0 where unknown) and whether it is unknown, log(change_recent / scale) (0 where unknown),
    last_year (:func:`last_year_known`; 1 if not given)."""
    scale = np.asarray(scale, dtype=float)
    log_scale = np.log(scale)
    columns = [np.ones(len(scale)), log_scale]
    for name in SCALE_FEATURES:
        value = np.asarray(features[name], dtype=float)
        known = np.isfinite(value)
        with _quiet():
            ratio = np.log(np.maximum(value, floor)) - log_scale
        columns.append(np.where(known, ratio, 0.0))
        if name == "change_last_year":
            columns.append((~known).astype(float))
    columns.append(np.ones(len(scale)) if last_year is None else np.asarray(last_year, dtype=float))
    return np.column_stack(columns)


def fit_scale(residual: np.ndarray, regressors: np.ndarray) -> np.ndarray:
    """Least-squares coefficients of log |residual| on :func:`scale_regressors`, over the rows
    whose residual is not exactly 0 (E log |e| = log sd + a constant for any one error shape,
    so the fit finds the error's scale up to a factor, which the calibrated quantiles absorb)."""
    residual = np.abs(np.asarray(residual, dtype=float))
    rows = residual > 0
    if rows.sum() <= regressors.shape[1]:
        raise ValueError("a fitted scale needs more non-zero residuals than regressors")
    coef, *_ = np.linalg.lstsq(regressors[rows], np.log(residual[rows]), rcond=None)
    return coef


def fitted_scale(
    coef: np.ndarray,
    scale: np.ndarray,
    last_year: np.ndarray | None,
    features: dict[str, np.ndarray],
    floor: float,
) -> np.ndarray:
    """exp(:func:`scale_regressors` @ ``coef``), at least ``floor``."""
    return scale_from_regressors(scale_regressors(scale, last_year, features, floor), coef, floor)


def scale_from_regressors(regressors: np.ndarray, coef: np.ndarray, floor: float) -> np.ndarray:
    """exp(``regressors`` @ ``coef``), at least ``floor``: the fitted scale of rows whose
    :func:`scale_regressors` are already built."""
    with _quiet():
        return np.maximum(np.exp(regressors @ np.asarray(coef, dtype=float)), floor)


# what a row set lacks for a fitted scale, said where it is found missing
NEEDS_SCALE_FEATURES = (
    f"the rows need {', '.join(SCALE_FEATURES)} for a fitted scale (scale_fit): attach_scales "
    "with scale_fit, or change_features"
)


def attach_scales(panel: pd.DataFrame, frame: pd.DataFrame, params: IntervalParams) -> pd.DataFrame:
    """``frame`` (rows with ``store, dept, date, cutoff``: a backtest or a test forecast) with
    the columns ``scale`` and ``floor`` of each row's series at its cutoff and ``last_year``
    (:func:`last_year_known`), with ``scale_fit`` the :data:`SCALE_FEATURES`
    (:func:`change_features`), each read from a :class:`History` of ``panel`` built at that
    cutoff (nothing after it)."""
    scale = np.full(len(frame), np.nan)
    floor = np.full(len(frame), np.nan)
    last_year = np.zeros(len(frame), dtype=bool)
    extra: dict[str, np.ndarray] = {}
    cutoffs = pd.to_datetime(frame["cutoff"])
    for cutoff in sorted(cutoffs.unique()):
        mask = (cutoffs == cutoff).to_numpy()
        history = History.from_panel(panel, pd.Timestamp(cutoff))
        scale[mask], floor[mask] = series_scale(history, frame.loc[mask], params)
        last_year[mask] = last_year_known(history, frame.loc[mask])
        if params.scale_fit:
            for name, values in change_features(history, frame.loc[mask], params).items():
                extra.setdefault(name, np.full(len(frame), np.nan))[mask] = values
    return frame.assign(scale=scale, floor=floor, last_year=last_year, **extra)


# ----------------------------------------------------------------------------- the model


@dataclass
class IntervalModel:
    """Quantiles of scaled residuals per group (:data:`GROUPS`: 0 = other weeks, 1 = holiday
    weeks, 2 = peak season; :func:`row_groups`) and step bucket; :meth:`apply` turns point
    forecasts into quantile forecasts."""

    quantiles: tuple[float, ...]
    bucket_weeks: int
    table: np.ndarray  # (3 groups, n_buckets, n_quantiles) scaled-residual quantiles
    counts: np.ndarray  # (3 groups, n_buckets) calibration rows
    params: IntervalParams = field(default_factory=IntervalParams)
    # per store type, the factor on each quantile of ``table`` (by_store_type); others: 1
    type_ratio: dict[str, np.ndarray] = field(default_factory=dict)
    # by_last_year: the model of the rows whose last-year week is unknown at the origin (this
    # one then holds the rows where it is known); None: one model for every row
    young: IntervalModel | None = None
    # scale_fit: coefficients of the row's scale on scale_regressors; None: the series' scale
    scale_coef: np.ndarray | None = None

    def __setstate__(self, state: dict) -> None:
        # models registered before by_store_type (3d9e8df) were pickled without type_ratio, and
        # before by_last_year / scale_fit without young / scale_coef: they keep forecasting as
        # they were calibrated
        self.__dict__.update({"type_ratio": {}, "young": None, "scale_coef": None, **state})

    def row_scale(
        self,
        scale: np.ndarray,
        last_year: np.ndarray | None = None,
        features: dict[str, np.ndarray] | None = None,
    ) -> np.ndarray:
        """The scale of each row: the series' ``scale`` (:func:`series_scale`), or with fitted
        coefficients exp(:func:`scale_regressors` @ coef), at least ``min_scale``."""
        scale = np.asarray(scale, dtype=float)
        if self.scale_coef is None:
            return scale
        if features is None:
            raise ValueError(NEEDS_SCALE_FEATURES)
        return fitted_scale(self.scale_coef, scale, last_year, features, self.params.min_scale)

    def forecast_frame(
        self,
        history: History,
        rows: pd.DataFrame,
        point: np.ndarray,
        step: np.ndarray,
        prefix: str = "q",
    ) -> pd.DataFrame:
        """Quantile forecasts (:meth:`frame`) of ``rows`` (store, dept, date, is_holiday,
        store_type) forecast ``point`` from ``history`` at horizon ``step``: the scale, floor,
        last-year flag and change features all read from ``history`` (nothing after its
        cutoff)."""
        scale, floor = series_scale(history, rows, self.params)
        last_year = last_year_known(history, rows)
        features = (
            change_features(history, rows, self.params) if self.scale_coef is not None else None
        )
        return self.frame(
            point,
            self.row_scale(scale, last_year, features),
            step,
            rows["date"],
            np.asarray(rows["is_holiday"]),
            floor,
            prefix=prefix,
            store_type=np.asarray(rows["store_type"]) if "store_type" in rows else None,
            last_year=last_year,
        )

    @property
    def levels(self) -> tuple[float, ...]:
        return self.params.levels

    def bucket(self, step: np.ndarray) -> np.ndarray:
        step = np.asarray(step, dtype=np.int64)
        return np.clip((step - 1) // self.bucket_weeks, 0, self.table.shape[1] - 1)

    def apply(
        self,
        point: np.ndarray,
        scale: np.ndarray,
        step: np.ndarray,
        group: np.ndarray | None = None,
        floor: np.ndarray | None = None,
        store_type: np.ndarray | None = None,
        last_year: np.ndarray | None = None,
    ) -> np.ndarray:
        """(n rows, n quantiles) forecasts: ``point + scale * q[group, bucket(step)] *
        r[store_type]`` (group from :func:`row_groups`, 0 if not given; r = 1 for a store type
        without its own factor or if not given), floored at ``floor``, sorted per row
        (non-crossing). With a ``young`` model, the rows whose ``last_year`` is False
        (:func:`last_year_known`) take its quantiles; without ``last_year`` every row takes
        this model's."""
        point = np.asarray(point, dtype=float)
        group = (
            np.zeros(len(point), dtype=np.int64)
            if group is None
            else np.asarray(group, dtype=np.int64)
        )
        spread = self.spread(step, group, store_type)
        young = getattr(self, "young", None)
        if young is not None and last_year is not None:
            apart = ~np.asarray(last_year, dtype=bool)
            if apart.any():
                spread[apart] = young.spread(
                    np.asarray(step)[apart],
                    group[apart],
                    None if store_type is None else np.asarray(store_type)[apart],
                )
        values = point[:, None] + np.asarray(scale, dtype=float)[:, None] * spread
        if floor is not None:
            values = np.maximum(values, np.asarray(floor, dtype=float)[:, None])
        return np.sort(values, axis=1)

    def spread(self, step, group: np.ndarray, store_type=None) -> np.ndarray:
        """(n rows, n quantiles) scaled quantiles ``q[group, bucket(step)] * r[store_type]``."""
        spread = self.table[group, self.bucket(step)]
        # a model pickled before the store-type factor existed has no type_ratio: pooled quantiles
        if store_type is not None and getattr(self, "type_ratio", None):
            spread = spread * self.ratios(store_type)
        return spread

    def ratios(self, store_type) -> np.ndarray:
        """(n rows, n quantiles) store-type factors: 1 for a type without its own."""
        types = _as_str(store_type)
        out = np.ones((len(types), len(self.quantiles)))
        for name, ratio in self.type_ratio.items():
            out[types == name] = ratio
        return out

    def groups(self, dates, is_holiday) -> np.ndarray:
        """:func:`row_groups` with this model's parameters."""
        return row_groups(dates, is_holiday, self.params)

    def frame(
        self,
        point: np.ndarray,
        scale: np.ndarray,
        step: np.ndarray,
        dates,
        is_holiday,
        floor=None,
        prefix: str = "q",
        store_type=None,
        last_year=None,
    ) -> pd.DataFrame:
        """:meth:`apply` for rows of weeks ``dates`` (holiday flags ``is_holiday``, stores of
        type ``store_type``, ``last_year`` from :func:`last_year_known`) as a frame with
        :func:`quantile_columns`."""
        return pd.DataFrame(
            self.apply(
                point, scale, step, self.groups(dates, is_holiday), floor, store_type, last_year
            ),
            columns=quantile_columns(self.quantiles, prefix),
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the parameters and, per group and step bucket, the scaled quantiles."""
        groups = GROUPS[: self.table.shape[0]]
        return {
            "params": self.params.model_dump(mode="json"),
            "quantiles": list(self.quantiles),
            "bucket_weeks": self.bucket_weeks,
            "table": {g: self.table[i].tolist() for i, g in enumerate(groups)},
            "counts": {g: self.counts[i].astype(int).tolist() for i, g in enumerate(groups)},
            "store_type_ratio": {
                t: np.asarray(r, dtype=float).tolist() for t, r in sorted(self.type_ratio.items())
            },
            "young": None if self.young is None else self.young.as_dict(),
            "scale_coef": None if self.scale_coef is None else self.scale_coef.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IntervalModel:
        groups = [g for g in GROUPS if g in data["table"]]
        return cls(
            quantiles=tuple(data["quantiles"]),
            bucket_weeks=int(data["bucket_weeks"]),
            table=np.array([data["table"][g] for g in groups], dtype=float),
            counts=np.array([data["counts"][g] for g in groups], dtype=float),
            params=IntervalParams(**data["params"]),
            type_ratio={
                t: np.asarray(r, dtype=float) for t, r in data.get("store_type_ratio", {}).items()
            },
            young=None if data.get("young") is None else cls.from_dict(data["young"]),
            scale_coef=None
            if data.get("scale_coef") is None
            else np.asarray(data["scale_coef"], dtype=float),
        )


def _isotonic(values: np.ndarray, weights: np.ndarray, increasing: bool) -> np.ndarray:
    from sklearn.isotonic import isotonic_regression

    ok = weights > 0
    if ok.sum() < 2:
        return values
    out = values.copy()
    out[ok] = isotonic_regression(values[ok], sample_weight=weights[ok], increasing=increasing)
    # empty buckets (no rows) take the nearest earlier bucket's value
    for i in range(1, len(out)):
        if not ok[i]:
            out[i] = out[i - 1]
    return out


def calibrate(
    residual: np.ndarray,
    scale: np.ndarray,
    step: np.ndarray,
    group: np.ndarray,
    params: IntervalParams,
    horizon: int | None = None,
    store_type: np.ndarray | None = None,
    last_year: np.ndarray | None = None,
) -> IntervalModel:
    """The :class:`IntervalModel` of backtest rows: ``residual = actual - forecast``, the
    series' ``scale`` at the row's cutoff, its horizon ``step``, calibration ``group``
    (:func:`row_groups`), with ``by_store_type`` its ``store_type`` and with ``by_last_year``
    whether its last-year week was known at the cutoff (``last_year``,
    :func:`last_year_known`): if at least ``min_bucket_rows`` rows of each kind, the rows with
    it make the model and those without its ``young`` model."""
    z = np.asarray(residual, dtype=float) / np.asarray(scale, dtype=float)
    step = np.asarray(step, dtype=np.int64)
    group = np.asarray(group, dtype=np.int64)
    if len(z) == 0 or not np.isfinite(z).all():
        raise ValueError(
            "calibration needs finite residuals and positive scales on at least one row"
        )
    horizon = int(horizon or step.max())
    if params.by_last_year and last_year is not None:
        known = np.asarray(last_year, dtype=bool)
        if min(known.sum(), (~known).sum()) >= params.min_bucket_rows:
            types = None if store_type is None else np.asarray(store_type)
            model = _calibrate(
                z[known],
                step[known],
                group[known],
                params,
                horizon,
                None if types is None else types[known],
            )
            model.young = _calibrate(
                z[~known],
                step[~known],
                group[~known],
                params,
                horizon,
                None if types is None else types[~known],
            )
            return model
    return _calibrate(z, step, group, params, horizon, store_type)


def _calibrate(
    z: np.ndarray,
    step: np.ndarray,
    group: np.ndarray,
    params: IntervalParams,
    horizon: int,
    store_type: np.ndarray | None,
) -> IntervalModel:
    """:func:`calibrate` of scaled residuals ``z`` (one model, no last-year split)."""
    quantiles = params.quantiles
    n_buckets = (horizon - 1) // params.step_bucket_weeks + 1
    bucket = np.clip((step - 1) // params.step_bucket_weeks, 0, n_buckets - 1)
    n_groups = len(GROUPS)
    ratios = {g: _group_ratio(z, group, g, quantiles) for g in range(1, n_groups)}

    table = np.full((n_groups, n_buckets, len(quantiles)), np.nan)
    counts = np.zeros((n_groups, n_buckets))
    pooled_all = np.quantile(z, quantiles)
    # the rows of each bucket and of each (bucket, group) cell, gathered by one sort instead of a
    # mask per cell (a quantile does not depend on the order of its rows)
    by_bucket = _cells(bucket, n_buckets)
    by_cell = _cells(bucket * n_groups + group, n_buckets * n_groups)
    for b in range(n_buckets):
        in_bucket = by_bucket[b]
        pooled = np.quantile(z[in_bucket], quantiles) if len(in_bucket) else pooled_all
        for g in range(n_groups):
            rows = by_cell[b * n_groups + g]
            counts[g, b] = len(rows)
            if len(rows) >= params.min_bucket_rows:
                table[g, b] = np.quantile(z[rows], quantiles)
            elif g > 0 and ratios[g] is not None:
                # few rows of this group in this bucket: the group's rows of every step, their
                # spread relative to the other weeks', applied to this bucket's pooled quantiles
                table[g, b] = pooled * ratios[g]
            else:
                table[g, b] = pooled
    if params.monotone:
        for g in range(n_groups):
            for j, q in enumerate(quantiles):
                if q != 0.5:
                    table[g, :, j] = _isotonic(
                        table[g, :, j], counts[g] + 1e-9 * (counts[g] == 0), increasing=q > 0.5
                    )
    type_ratio = {}
    if params.by_store_type and store_type is not None:
        types = _as_str(store_type)
        for name in np.unique(types):
            mine = types == name
            if mine.sum() >= params.min_bucket_rows and (~mine).any():
                type_ratio[str(name)] = _ratio(
                    np.quantile(z[mine], quantiles), pooled_all, quantiles
                )
    return IntervalModel(quantiles, params.step_bucket_weeks, table, counts, params, type_ratio)


def _as_str(values: Any) -> np.ndarray:
    """``values`` as a numpy string array (converted once: comparing strings is fast, turning
    Python objects into them is not)."""
    values = np.asarray(values)
    return values if values.dtype.kind == "U" else values.astype(str)


def _cells(cell: np.ndarray, n_cells: int) -> list[np.ndarray]:
    """The positions of the rows of each cell ``0 .. n_cells - 1`` (``cell``: each row's), in
    row order."""
    # a stable sort of 16-bit keys is a radix sort
    small = np.int16 if n_cells < np.iinfo(np.int16).max else np.int64
    order = np.argsort(cell.astype(small), kind="stable")
    bounds = np.searchsorted(cell[order], np.arange(n_cells + 1))
    return [order[bounds[i] : bounds[i + 1]] for i in range(n_cells)]


def _group_ratio(
    z: np.ndarray, group: np.ndarray, g: int, quantiles: Sequence[float]
) -> np.ndarray | None:
    """Per quantile, |quantile| of group ``g``'s rows over that of group 0's (1 at the median);
    None if either has no rows."""
    if not (group == g).any() or not (group == 0).any():
        return None
    return _ratio(
        np.quantile(z[group == g], quantiles), np.quantile(z[group == 0], quantiles), quantiles
    )


def _ratio(mine: np.ndarray, other: np.ndarray, quantiles: Sequence[float]) -> np.ndarray:
    """Per quantile |mine| / |other| (1 at the median and where ``other`` is 0)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(np.abs(other) > 1e-12, np.abs(mine) / np.abs(other), 1.0)
    return np.where(np.asarray(quantiles) == 0.5, 1.0, ratio)


@dataclass(frozen=True)
class CalibrationRows:
    """The rows of a backtest frame (or of forecasts) as arrays, read once: what calibrating,
    applying and scoring intervals need of them (:meth:`from_frame`). Nothing here depends on a
    model, so one instance serves every model of a backtest and every fold of its cross-fitting
    (:func:`calibrate_rows`, :func:`apply_rows`, :func:`cross_fitted_rows`,
    :func:`last_fold_rows`): the calibration groups and the fitted scale's regressors are built
    once, not once per model and fold. A fold's rows are taken (:meth:`take`) when a model needs
    them, not kept: at 10x one backtest's rows are ~400 MB, a copy per fold for every model
    would triple that."""

    params: IntervalParams
    index: pd.Index  # the frame's
    actual: np.ndarray | None
    scale: np.ndarray
    floor: np.ndarray | None
    step: np.ndarray
    group: np.ndarray  # row_groups with ``params``
    cutoff: np.ndarray | None
    store_type: np.ndarray | None
    last_year: np.ndarray | None
    features: dict[str, np.ndarray] | None
    regressors: np.ndarray | None  # scale_regressors of the rows (with ``features``)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, params: IntervalParams) -> CalibrationRows:
        """The rows of ``frame``: ``scale``, ``step``, ``date`` and ``is_holiday`` columns
        (:func:`attach_scales`), and ``actual``, ``floor``, ``cutoff``, ``store_type``,
        ``last_year`` and the :data:`SCALE_FEATURES` if any."""

        def column(name: str, dtype: Any = None) -> np.ndarray | None:
            return frame[name].to_numpy(dtype=dtype) if name in frame else None

        scale = frame["scale"].to_numpy(dtype=float)
        last_year = column("last_year")
        features = _features(frame)
        return cls(
            params=params,
            index=frame.index,
            actual=column("actual", float),
            scale=scale,
            floor=column("floor", float),
            step=frame["step"].to_numpy(),
            group=row_groups(frame["date"], frame["is_holiday"], params),
            cutoff=column("cutoff"),
            store_type=None if "store_type" not in frame else _as_str(frame["store_type"]),
            last_year=last_year,
            features=features,
            regressors=None
            if features is None
            else scale_regressors(scale, last_year, features, params.min_scale),
        )

    def __len__(self) -> int:
        return len(self.scale)

    def take(self, rows: np.ndarray) -> CalibrationRows:
        """These rows at ``rows`` (a boolean mask or positions), in that order."""

        def pick(values: np.ndarray | None) -> np.ndarray | None:
            return None if values is None else values[rows]

        return CalibrationRows(
            params=self.params,
            index=self.index[rows],
            actual=pick(self.actual),
            scale=self.scale[rows],
            floor=pick(self.floor),
            step=self.step[rows],
            group=self.group[rows],
            cutoff=pick(self.cutoff),
            store_type=pick(self.store_type),
            last_year=pick(self.last_year),
            features=None
            if self.features is None
            else {name: values[rows] for name, values in self.features.items()},
            regressors=pick(self.regressors),
        )

    @cached_property
    def folds(self) -> list[np.ndarray]:
        """Each fold's rows (a mask per cutoff, earliest cutoff first; computed once)."""
        return [self.cutoff == cutoff for cutoff in np.sort(pd.unique(self.cutoff))]

    def row_scale(self, coef: np.ndarray | None) -> np.ndarray:
        """Each row's scale: the series' (no ``coef``) or the fitted one
        (exp(regressors @ ``coef``), at least ``min_scale``)."""
        if coef is None:
            return self.scale
        if self.regressors is None:
            raise ValueError(NEEDS_SCALE_FEATURES)
        return scale_from_regressors(self.regressors, coef, self.params.min_scale)


def calibrate_rows(
    rows: CalibrationRows, forecast: np.ndarray, horizon: int | None = None
) -> IntervalModel:
    """:func:`calibrate` of ``rows`` (with ``actual``) forecast ``forecast``, with the rows'
    parameters. With ``scale_fit`` the rows' scale is first fitted on these rows
    (:func:`fit_scale`)."""
    params = rows.params
    if rows.actual is None:
        raise ValueError("calibration needs the rows' actual values")
    residual = rows.actual - np.asarray(forecast, dtype=float)
    scale = rows.scale
    coef = None
    if params.scale_fit:
        if rows.regressors is None:
            raise ValueError(NEEDS_SCALE_FEATURES)
        coef = fit_scale(residual, rows.regressors)
        scale = rows.row_scale(coef)
    fitted = calibrate(
        residual,
        scale,
        rows.step,
        rows.group,
        params,
        horizon,
        rows.store_type,
        rows.last_year,
    )
    fitted.scale_coef = coef
    return fitted


def apply_rows(
    interval_model: IntervalModel, rows: CalibrationRows, forecast: np.ndarray
) -> np.ndarray:
    """(n rows, n quantiles) quantile forecasts of ``rows`` forecast ``forecast``
    (:meth:`IntervalModel.apply`; the model's parameters must group weeks as the rows' do)."""
    mine, theirs = interval_model.params, rows.params
    if (mine.by_holiday, mine.peak_season, mine.min_scale) != (
        theirs.by_holiday,
        theirs.peak_season,
        theirs.min_scale,
    ):
        raise ValueError(
            "the rows were read with other calibration groups or min_scale than the interval "
            "model's: CalibrationRows.from_frame(frame, interval_model.params)"
        )
    return interval_model.apply(
        np.asarray(forecast, dtype=float),
        rows.row_scale(interval_model.scale_coef),
        rows.step,
        rows.group,
        rows.floor,
        rows.store_type,
        rows.last_year,
    )


def calibrate_frame(
    frame: pd.DataFrame, model: str, params: IntervalParams, horizon: int | None = None
) -> IntervalModel:
    """:func:`calibrate` on a backtest frame with ``actual``, ``<model>``, ``scale``, ``step``,
    ``date`` and ``is_holiday`` columns (:func:`attach_scales`), and ``store_type`` and
    ``last_year`` if any. With ``scale_fit`` (and the :data:`SCALE_FEATURES` columns) the
    rows' scale is first fitted on these rows (:func:`fit_scale`)."""
    return calibrate_rows(
        CalibrationRows.from_frame(frame, params), frame[model].to_numpy(dtype=float), horizon
    )


def _features(frame: pd.DataFrame) -> dict[str, np.ndarray] | None:
    if not all(name in frame for name in SCALE_FEATURES):
        return None
    return {name: frame[name].to_numpy(dtype=float) for name in SCALE_FEATURES}


def apply_frame(
    interval_model: IntervalModel, frame: pd.DataFrame, model: str, prefix: str = "q"
) -> pd.DataFrame:
    """Quantile columns for the rows of ``frame`` (``<model>``, ``scale``, ``floor``, ``step``,
    ``date``, ``is_holiday``, and ``store_type``, ``last_year`` and the
    :data:`SCALE_FEATURES` if any), in its order and index."""
    rows = CalibrationRows.from_frame(frame, interval_model.params)
    return pd.DataFrame(
        apply_rows(interval_model, rows, frame[model].to_numpy(dtype=float)),
        columns=quantile_columns(interval_model.quantiles, prefix),
        index=frame.index,
    )


def cross_fitted_rows(
    rows: CalibrationRows, forecast: np.ndarray, horizon: int | None = None
) -> np.ndarray:
    """:func:`cross_fitted` of ``rows`` (with ``cutoff``) forecast ``forecast``, as an
    (n rows, n quantiles) array in the rows' order."""
    forecast = np.asarray(forecast, dtype=float)
    if len(rows.folds) < 2:  # one fold: in-sample, every row at once (no copy of the rows)
        return apply_rows(calibrate_rows(rows, forecast, horizon), rows, forecast)
    out = np.empty((len(rows), len(rows.params.quantiles)))
    for fold in rows.folds:
        # the rows taken here, one fold's at a time (held for every model at once they cost
        # more memory than their gathering costs time)
        fitted = calibrate_rows(rows.take(~fold), forecast[~fold], horizon)
        out[fold] = apply_rows(fitted, rows.take(fold), forecast[fold])
    return out


def cross_fitted(
    frame: pd.DataFrame, model: str, params: IntervalParams, horizon: int | None = None
) -> pd.DataFrame:
    """The backtest's own quantile forecasts, out of sample: the rows of each fold (cutoff) get
    intervals calibrated on the *other* folds' residuals only (with one fold, in-sample)."""
    return pd.DataFrame(
        cross_fitted_rows(
            CalibrationRows.from_frame(frame, params), frame[model].to_numpy(dtype=float), horizon
        ),
        columns=quantile_columns(params.quantiles),
        index=frame.index,
    )


def last_fold_mask(rows: CalibrationRows) -> np.ndarray | None:
    """The rows of the last fold (the latest cutoff); None with one fold. Its rows'
    :func:`cross_fitted_rows` are its :func:`last_fold_rows` (calibrated on every other fold,
    i.e. on the earlier ones)."""
    return rows.folds[-1] if len(rows.folds) > 1 else None


def last_fold_rows(
    rows: CalibrationRows, forecast: np.ndarray, horizon: int | None = None
) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`last_fold_fitted` of ``rows`` forecast ``forecast``: the last fold's mask and
    its (n, n quantiles) quantile forecasts; None with one fold."""
    last = last_fold_mask(rows)
    if last is None:
        return None
    forecast = np.asarray(forecast, dtype=float)
    fitted = calibrate_rows(rows.take(~last), forecast[~last], horizon)
    return last, apply_rows(fitted, rows.take(last), forecast[last])


def last_fold_fitted(
    frame: pd.DataFrame, model: str, params: IntervalParams, horizon: int | None = None
) -> pd.DataFrame | None:
    """Nested validation: the quantile forecasts of the backtest's last fold (the latest
    cutoff, the one most like a forecast origin) calibrated on the earlier folds only; None with
    one fold."""
    fitted = last_fold_rows(
        CalibrationRows.from_frame(frame, params), frame[model].to_numpy(dtype=float), horizon
    )
    if fitted is None:
        return None
    last, values = fitted
    return pd.DataFrame(values, columns=quantile_columns(params.quantiles), index=frame.index[last])


# ----------------------------------------------------------------------------- scores


def interval_score(
    actual: np.ndarray, lower: np.ndarray, upper: np.ndarray, level: float
) -> np.ndarray:
    """Winkler / interval score per row: width + 2/alpha x the miss beyond either bound."""
    alpha = 1.0 - level / 100.0
    return (upper - lower) + (2.0 / alpha) * (
        np.maximum(lower - actual, 0) + np.maximum(actual - upper, 0)
    )


def pinball(actual: np.ndarray, forecast: np.ndarray, q: float) -> np.ndarray:
    """Pinball (quantile) loss per row."""
    diff = actual - forecast
    return np.maximum(q * diff, (q - 1.0) * diff)


def _summary(
    actual: np.ndarray,
    values: np.ndarray,
    quantiles: Sequence[float],
    levels: Sequence[float],
    weight: np.ndarray,
) -> dict[str, Any]:
    columns = {q: i for i, q in enumerate(quantiles)}
    out: dict[str, Any] = {}
    for level in levels:
        low, high = level_bounds(level)
        lower, upper = values[:, columns[low]], values[:, columns[high]]
        score = interval_score(actual, lower, upper, level)
        inside = (actual >= lower) & (actual <= upper)
        out[level_name(level)] = {
            "coverage": float(inside.mean()),
            "width": float((upper - lower).mean()),
            "interval_score": float(score.mean()),
            "interval_score_weighted": float((weight * score).sum() / weight.sum()),
            "below": float((actual < lower).mean()),
            "above": float((actual > upper).mean()),
        }
    losses = np.column_stack([pinball(actual, values[:, columns[q]], q) for q in quantiles])
    out["pinball"] = float(losses.mean())
    out["pinball_weighted"] = float(
        (weight[:, None] * losses).sum() / (weight.sum() * len(quantiles))
    )
    return out


def score_intervals(
    frame: pd.DataFrame,
    values: np.ndarray | pd.DataFrame,
    quantiles: Sequence[float],
    levels: Sequence[float],
    segments: Sequence[str] = SEGMENTS,
    holiday_weight: float = HOLIDAY_WEIGHT,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Scores of quantile forecasts ``values`` (rows of ``frame``: ``actual``, ``is_holiday``
    and the ``segments`` columns; one column per quantile).

    Returns ``{"80": {coverage, width, interval_score, interval_score_weighted, below, above},
    "95": {…}, "pinball": …, "pinball_weighted": …}`` over every row (``_weighted``: the
    WMAE's holiday weights) and a long table ``segment, segment_value, level, n, coverage,
    width, interval_score, interval_score_weighted`` (``segment = overall`` and each of
    ``segments``; ``level = pinball`` rows hold the pinball loss in ``interval_score``).
    """
    values = np.asarray(values, dtype=float)
    actual = frame["actual"].to_numpy(dtype=float)
    weight = holiday_weights(frame["is_holiday"], holiday_weight)
    totals = _summary(actual, values, quantiles, levels, weight)
    rows = []

    def add(segment: str, value: Any, summary: dict[str, Any], n: int) -> None:
        for level in levels:
            rows.append(
                {
                    "segment": segment,
                    "segment_value": str(value),
                    "level": level_name(level),
                    "n": n,
                    **{
                        k: summary[level_name(level)][k]
                        for k in ("coverage", "width", "interval_score", "interval_score_weighted")
                    },
                }
            )
        rows.append(
            {
                "segment": segment,
                "segment_value": str(value),
                "level": "pinball",
                "n": n,
                "coverage": np.nan,
                "width": np.nan,
                "interval_score": summary["pinball"],
                "interval_score_weighted": summary["pinball_weighted"],
            }
        )

    add("overall", "all", totals, len(actual))
    for segment in segments:
        # each value's rows (in order of appearance of the values, each value's rows in their
        # order) by one sort of integer codes: no mask over every row per value, and comparing
        # the values themselves (the store types' strings) cost a second per backtest
        codes, values_of = pd.factorize(frame[segment].to_numpy(), use_na_sentinel=False)
        for value, members in zip(values_of, _cells(codes, len(values_of)), strict=True):
            add(
                segment,
                value,
                _summary(actual[members], values[members], quantiles, levels, weight[members]),
                len(members),
            )
    table = pd.DataFrame(rows)
    return totals, table


def coverage_by(table: pd.DataFrame, segment: str) -> dict[str, dict[str, float]]:
    """``{level: {segment value: coverage}}`` from :func:`score_intervals`' table."""
    rows = table[(table["segment"] == segment) & (table["level"] != "pinball")]
    return {
        level: dict(zip(group["segment_value"], group["coverage"].astype(float), strict=True))
        for level, group in rows.groupby("level", sort=False)
    }
