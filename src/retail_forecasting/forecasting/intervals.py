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
        day = pd.DatetimeIndex(dates).strftime("%m-%d").to_numpy()
        start, end = params.peak_season
        group[(day >= start) & (day <= end)] = 2
    return group


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
                start, end = params.peak_season
                peak = [
                    ((d >= start) & (d <= end))
                    for d in (
                        to_week.strftime("%m-%d").to_numpy(),
                        (to_week - WEEK_DELTA).strftime("%m-%d").to_numpy(),
                    )
                ]
                change[:, peak[0] | peak[1]] = np.nan
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


def attach_scales(panel: pd.DataFrame, frame: pd.DataFrame, params: IntervalParams) -> pd.DataFrame:
    """``frame`` (rows with ``store, dept, cutoff``: a backtest or a test forecast) with the
    columns ``scale`` and ``floor`` of each row's series at its cutoff, each read from a
    :class:`History` of ``panel`` built at that cutoff (nothing after it)."""
    scale = np.full(len(frame), np.nan)
    floor = np.full(len(frame), np.nan)
    cutoffs = pd.to_datetime(frame["cutoff"])
    for cutoff in sorted(cutoffs.unique()):
        mask = (cutoffs == cutoff).to_numpy()
        history = History.from_panel(panel, pd.Timestamp(cutoff))
        scale[mask], floor[mask] = series_scale(history, frame.loc[mask], params)
    return frame.assign(scale=scale, floor=floor)


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

    def __setstate__(self, state: dict) -> None:
        # models registered before by_store_type (3d9e8df) were pickled without type_ratio:
        # they keep forecasting, with no store-type factors (what they were calibrated with)
        self.__dict__.update({"type_ratio": {}, **state})

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
    ) -> np.ndarray:
        """(n rows, n quantiles) forecasts: ``point + scale * q[group, bucket(step)] *
        r[store_type]`` (group from :func:`row_groups`, 0 if not given; r = 1 for a store type
        without its own factor or if not given), floored at ``floor``, sorted per row
        (non-crossing)."""
        point = np.asarray(point, dtype=float)
        group = (
            np.zeros(len(point), dtype=np.int64)
            if group is None
            else np.asarray(group, dtype=np.int64)
        )
        spread = self.table[group, self.bucket(step)]
        # a model pickled before the store-type factor existed has no type_ratio: pooled quantiles
        if store_type is not None and getattr(self, "type_ratio", None):
            spread = spread * self.ratios(store_type)
        values = point[:, None] + np.asarray(scale, dtype=float)[:, None] * spread
        if floor is not None:
            values = np.maximum(values, np.asarray(floor, dtype=float)[:, None])
        return np.sort(values, axis=1)

    def ratios(self, store_type) -> np.ndarray:
        """(n rows, n quantiles) store-type factors: 1 for a type without its own."""
        types = np.asarray(store_type).astype(str)
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
    ) -> pd.DataFrame:
        """:meth:`apply` for rows of weeks ``dates`` (holiday flags ``is_holiday``, stores of
        type ``store_type``) as a frame with :func:`quantile_columns`."""
        return pd.DataFrame(
            self.apply(point, scale, step, self.groups(dates, is_holiday), floor, store_type),
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
) -> IntervalModel:
    """The :class:`IntervalModel` of backtest rows: ``residual = actual - forecast``, the
    series' ``scale`` at the row's cutoff, its horizon ``step``, calibration ``group``
    (:func:`row_groups`) and, with ``by_store_type``, its ``store_type``."""
    z = np.asarray(residual, dtype=float) / np.asarray(scale, dtype=float)
    step = np.asarray(step, dtype=np.int64)
    group = np.asarray(group, dtype=np.int64)
    if len(z) == 0 or not np.isfinite(z).all():
        raise ValueError(
            "calibration needs finite residuals and positive scales on at least one row"
        )
    quantiles = params.quantiles
    horizon = int(horizon or step.max())
    n_buckets = (horizon - 1) // params.step_bucket_weeks + 1
    bucket = np.clip((step - 1) // params.step_bucket_weeks, 0, n_buckets - 1)
    n_groups = len(GROUPS)
    ratios = {g: _group_ratio(z, group, g, quantiles) for g in range(1, n_groups)}

    table = np.full((n_groups, n_buckets, len(quantiles)), np.nan)
    counts = np.zeros((n_groups, n_buckets))
    pooled_all = np.quantile(z, quantiles)
    for b in range(n_buckets):
        in_bucket = bucket == b
        pooled = np.quantile(z[in_bucket], quantiles) if in_bucket.any() else pooled_all
        for g in range(n_groups):
            rows = in_bucket & (group == g)
            counts[g, b] = rows.sum()
            if rows.sum() >= params.min_bucket_rows:
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
        types = np.asarray(store_type).astype(str)
        for name in sorted(set(types)):
            mine = types == name
            if mine.sum() >= params.min_bucket_rows and (~mine).any():
                type_ratio[name] = _ratio(np.quantile(z[mine], quantiles), pooled_all, quantiles)
    return IntervalModel(quantiles, params.step_bucket_weeks, table, counts, params, type_ratio)


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


def calibrate_frame(
    frame: pd.DataFrame, model: str, params: IntervalParams, horizon: int | None = None
) -> IntervalModel:
    """:func:`calibrate` on a backtest frame with ``actual``, ``<model>``, ``scale``, ``step``,
    ``date`` and ``is_holiday`` columns (:func:`attach_scales`), and ``store_type`` if any."""
    return calibrate(
        frame["actual"].to_numpy(dtype=float) - frame[model].to_numpy(dtype=float),
        frame["scale"].to_numpy(dtype=float),
        frame["step"].to_numpy(),
        row_groups(frame["date"], frame["is_holiday"], params),
        params,
        horizon,
        frame["store_type"].to_numpy() if "store_type" in frame else None,
    )


def apply_frame(
    interval_model: IntervalModel, frame: pd.DataFrame, model: str, prefix: str = "q"
) -> pd.DataFrame:
    """Quantile columns for the rows of ``frame`` (``<model>``, ``scale``, ``floor``, ``step``,
    ``date``, ``is_holiday``, and ``store_type`` if any), in its order and index."""
    out = interval_model.frame(
        frame[model].to_numpy(dtype=float),
        frame["scale"].to_numpy(dtype=float),
        frame["step"].to_numpy(),
        frame["date"],
        frame["is_holiday"].to_numpy(),
        frame["floor"].to_numpy(dtype=float),
        prefix,
        frame["store_type"].to_numpy() if "store_type" in frame else None,
    )
    out.index = frame.index
    return out


def cross_fitted(
    frame: pd.DataFrame, model: str, params: IntervalParams, horizon: int | None = None
) -> pd.DataFrame:
    """The backtest's own quantile forecasts, out of sample: the rows of each fold (cutoff) get
    intervals calibrated on the *other* folds' residuals only (with one fold, in-sample)."""
    cutoffs = frame["cutoff"].unique()
    parts = []
    for cutoff in cutoffs:
        fold = frame["cutoff"] == cutoff
        train = frame.loc[~fold] if len(cutoffs) > 1 else frame
        parts.append(
            apply_frame(calibrate_frame(train, model, params, horizon), frame.loc[fold], model)
        )
    return pd.concat(parts).loc[frame.index]


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
        keys = frame[segment].to_numpy()
        for value in pd.unique(keys):
            mask = keys == value
            add(
                segment,
                value,
                _summary(actual[mask], values[mask], quantiles, levels, weight[mask]),
                int(mask.sum()),
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
