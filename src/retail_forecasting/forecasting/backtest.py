"""Rolling-origin cross-validation and the metrics computed from its output.

:func:`cross_validation` returns one long frame — series, week, ``cutoff``, ``step``,
``actual`` and one column per model — for any set of forecasters, baselines or learners alike;
:func:`score` turns such a frame into WMAE/MAE/RMSE overall and by segment, per fold and
aggregated. The test window is scored by the same two functions (one fold whose cutoff is the
last validation week), so every number in the project comes from one code path.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from retail_forecasting.forecasting import partitioned
from retail_forecasting.forecasting.contract import ID_COLUMNS, TARGET, TIME_COLUMN, Forecaster
from retail_forecasting.forecasting.history import WEEK, History
from retail_forecasting.metrics import HOLIDAY_WEIGHT, holiday_weights, to_mlflow_metrics
from retail_forecasting.progress import Progress

logger = logging.getLogger(__name__)

KEY_COLUMNS = [*ID_COLUMNS, TIME_COLUMN, "cutoff", "step", "is_holiday", "store_type", "actual"]
SEGMENTS = ("store_type", "dept", "is_holiday", "step")


class BacktestParams(BaseModel):
    """``backtest`` parameters (``conf/base/parameters_baselines.yml``): the preferred design;
    :func:`design_backtest` adapts it when the horizon leaves too little history."""

    model_config = ConfigDict(extra="forbid")

    n_windows: int = Field(3, ge=1, description="windows at most")
    step_weeks: int = Field(6, ge=1, description="weeks between consecutive cutoffs")
    min_history_weeks: int = Field(
        52, ge=1, description="weeks of history the first cutoff should have"
    )
    min_windows: int = Field(
        2,
        ge=1,
        description="windows kept when adapting (2: the ensemble's backtest stays cross-fitted)",
    )
    min_history_floor: int = Field(
        26, ge=1, description="least history of any cutoff: below it there is no honest backtest"
    )


class NoHonestBacktest(ValueError):
    """The data leave too little history before a full forecast window for any backtest."""


@dataclass(frozen=True)
class BacktestDesign:
    """Where the backtest windows go: ``history_weeks[i]`` weeks of history before cutoff ``i``
    (the cutoff is the ``history_weeks[i]``-th week of the data), each window ``horizon`` weeks
    long, the last one ending on the last week; ``reason`` says why this design was chosen."""

    n_weeks: int
    horizon: int
    history_weeks: tuple[int, ...]
    step_weeks: int
    kind: str  # configured | fewer_windows | shorter_history
    reason: str

    @property
    def n_windows(self) -> int:
        return len(self.history_weeks)

    def cutoffs(self, weeks: pd.DatetimeIndex) -> list[pd.Timestamp]:
        """The cutoff dates among ``weeks`` (the ``n_weeks`` sorted weeks the design was made
        for)."""
        if len(weeks) != self.n_weeks:
            raise ValueError(f"the design is for {self.n_weeks} weeks, got {len(weeks)}")
        return [pd.Timestamp(weeks[h - 1]) for h in self.history_weeks]

    def as_dict(self, weeks: pd.DatetimeIndex | None = None) -> dict[str, Any]:
        """JSON-ready record (``metrics.json``, MLflow params), with the cutoff dates if given."""
        out: dict[str, Any] = {
            "kind": self.kind,
            "n_windows": self.n_windows,
            "window_weeks": self.horizon,
            "step_weeks": self.step_weeks,
            "history_weeks": list(self.history_weeks),
            "train_validation_weeks": self.n_weeks,
            "reason": self.reason,
        }
        if weeks is not None:
            out["cutoffs"] = [f"{c:%Y-%m-%d}" for c in self.cutoffs(weeks)]
        return out


def design_backtest(n_weeks: int, horizon: int, params: BacktestParams) -> BacktestDesign:
    """The rolling-origin design for ``horizon``-week windows inside ``n_weeks`` weeks of data
    (train + validation), adapted to the history there is. A pure function of its arguments.

    Every window is a full ``horizon`` weeks (every step is scored) and the last one ends on the
    last week, so the last cutoff has ``n_weeks - horizon`` weeks of history. In order:

    1. **configured**: ``n_windows`` windows ``step_weeks`` apart, if the first cutoff has
       ``min_history_weeks`` (a season: every seasonal lookup of the first step exists);
    2. **fewer_windows**: else as many of them (at least ``min_windows``) as keep that history;
    3. **shorter_history**: else ``min_windows`` windows (one if even that does not fit), the
       first cutoff with less history but at least ``min_history_floor``: what a season-long
       lookup misses falls back as in the baselines (fewer windows keep more history; two keep
       the ensemble's backtest cross-fitted).

    Raises :class:`NoHonestBacktest` if the last cutoff has under ``min_history_floor`` weeks.
    """
    if horizon < 1:
        raise ValueError(f"horizon must be at least 1 week, got {horizon}")
    last = n_weeks - horizon
    floor = min(params.min_history_floor, params.min_history_weeks)
    if last < floor:
        raise NoHonestBacktest(
            f"No honest backtest: a {horizon}-week window ending on the last of the {n_weeks} "
            f"weeks before the test window leaves {max(last, 0)} weeks of history at its cutoff, "
            f"under backtest.min_history_floor={floor}. It needs at least {horizon + floor} "
            f"weeks of train + validation: more history, a horizon of at most "
            f"{max(n_weeks - floor, 0)} weeks, or (knowingly) a lower min_history_floor."
        )
    step, wanted = params.step_weeks, params.n_windows

    def windows(k: int) -> tuple[int, ...]:
        return tuple(last - (k - 1 - i) * step for i in range(k))

    configured = windows(wanted)
    if configured[0] >= params.min_history_weeks:
        return BacktestDesign(
            n_weeks,
            horizon,
            configured,
            step,
            "configured",
            f"as configured: {wanted} window(s) of {horizon} weeks, {step} weeks apart; the first "
            f"cutoff has {configured[0]} weeks of history "
            f"(>= min_history_weeks={params.min_history_weeks})",
        )
    fit = 1 + (last - params.min_history_weeks) // step if last >= params.min_history_weeks else 0
    if fit >= min(params.min_windows, wanted):
        chosen = windows(fit)
        return BacktestDesign(
            n_weeks,
            horizon,
            chosen,
            step,
            "fewer_windows",
            f"{wanted} windows of {horizon} weeks would start with {configured[0]} weeks of "
            f"history (< min_history_weeks={params.min_history_weeks}); kept the last {fit}, "
            f"{step} weeks "
            f"apart, the first cutoff with {chosen[0]} weeks of history",
        )
    k = min(params.min_windows, wanted)
    while k > 1 and windows(k)[0] < floor:
        k -= 1
    chosen = windows(k)
    return BacktestDesign(
        n_weeks,
        horizon,
        chosen,
        step,
        "shorter_history",
        f"a {horizon}-week horizon leaves {last} weeks of history before the last window, so no "
        f"{min(params.min_windows, wanted)} windows {step} weeks apart have min_history_weeks="
        f"{params.min_history_weeks}; used {k} window(s), the first cutoff with {chosen[0]} weeks "
        f"(>= min_history_floor={floor}); seasonal lookups before the first week fall back to the "
        "series' level"
        + ("" if k > 1 else "; one window: the ensemble's backtest weights are in-sample"),
    )


def backtest_weeks(dates: pd.Series | pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The sorted distinct weeks of ``dates``."""
    return pd.DatetimeIndex(pd.unique(pd.DatetimeIndex(dates))).sort_values()


def rolling_cutoffs(
    dates: pd.Series | pd.DatetimeIndex, horizon: int, params: BacktestParams
) -> list[pd.Timestamp]:
    """The cutoffs of :func:`design_backtest` for the weeks of ``dates``: windows of ``horizon``
    weeks, the last ending on the last date. Raises :class:`NoHonestBacktest` if none exists."""
    weeks = backtest_weeks(dates)
    return design_backtest(len(weeks), horizon, params).cutoffs(weeks)


class HorizonRefused(ValueError):
    """``horizon_weeks`` is more than the data (or the features) allow: refused before any work."""


def check_request(
    n_weeks: int,
    horizon: int,
    validation_weeks: int,
    min_train_weeks: int,
    params: BacktestParams,
    longest: int,
) -> dict[str, Any]:
    """Whether a ``horizon``-week forecast can be made and honestly backtested on ``n_weeks``
    weeks of sales: the test window (``horizon`` weeks), the validation window and the minimum
    train must fit (ingestion's split), the features must serve the horizon (``longest``), and
    :func:`design_backtest` must find a design in train + validation. Returns the plan
    ``{horizon_weeks, weeks_available, max_horizon_weeks, backtest_design}``; raises
    :class:`HorizonRefused` saying what limits the horizon and what would allow it."""
    reserved = validation_weeks + min_train_weeks
    most = max_horizon(n_weeks, reserved, params, longest)
    if horizon < 1 or horizon > most:
        floor = min(params.min_history_floor, params.min_history_weeks)
        limits = {
            "the features' shortest seasonal lookup "
            "(feature_engineering.seasonal_lags, lag 52)": longest,
            f"the split: horizon + ingestion.validation_weeks={validation_weeks} + "
            f"ingestion.min_train_weeks={min_train_weeks} <= {n_weeks} weeks": n_weeks - reserved,
            f"the backtest: a full window with backtest.min_history_floor={floor} weeks of history "
            "before it in train + validation": max_horizon(n_weeks, 0, params, n_weeks),
        }
        binding = min(limits, key=limits.__getitem__)
        raise HorizonRefused(
            f"horizon_weeks={horizon} is refused before any work: the sales history has {n_weeks} "
            f"weeks and allows horizons of 1 to {most} weeks"
            + (" (none)" if most == 0 else "")
            + f". The limit is {binding} (at most "
            f"{limits[binding]}); the others: "
            + "; ".join(
                f"{name} (at most {value})" for name, value in limits.items() if name != binding
            )
            + f". Ask for 1 to {most} weeks"
            + (
                " (the features look up last year's week, so more history does not lift this limit)"
                if limits[binding] == longest
                else ", or give more weeks of sales history, or lower "
                "ingestion.validation_weeks / ingestion.min_train_weeks "
                "(shorter windows to learn from and to judge on)"
            )
            + "."
        )
    design = design_backtest(n_weeks - horizon, horizon, params)
    return {
        "horizon_weeks": int(horizon),
        "weeks_available": int(n_weeks),
        "max_horizon_weeks": int(most),
        "backtest_design": design.as_dict(),
    }


def max_horizon(n_weeks: int, reserved_weeks: int, params: BacktestParams, longest: int) -> int:
    """The longest horizon (at most ``longest``) whose request can be honoured on ``n_weeks``
    weeks of sales: the test window (``horizon`` weeks) and ``reserved_weeks`` (validation +
    minimum train) must fit, and :func:`design_backtest` must find an honest design in the rest."""
    best = 0
    for horizon in range(1, min(longest, n_weeks) + 1):
        if horizon + reserved_weeks > n_weeks:
            break
        try:
            design_backtest(n_weeks - horizon, horizon, params)
        except NoHonestBacktest:
            continue
        best = horizon
    return best


def cross_validation(
    panel: pd.DataFrame,
    forecasters: Mapping[str, Forecaster],
    horizon: int,
    cutoffs: Sequence[pd.Timestamp],
    observed: Sequence[str] = (),
    start: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Forecast the ``horizon`` weeks after each cutoff with every forecaster.

    Each forecaster gets a :class:`History` built from the rows dated at or before the cutoff
    and the rows to forecast **without** their target; it returns one forecast per row.
    Forecasters that are all per-department go to the registered distributed runner, if any
    (:mod:`.partitioned`; ``kedro run --env spark``); ``start`` (default: the panel's first
    week) is the week grid's origin, given when the panel is one department of a larger one.
    """
    engine = partitioned.runner()
    if engine is not None and partitioned.partitionable(forecasters):
        return engine(panel, forecasters, horizon, cutoffs, observed)
    start = panel[TIME_COLUMN].min() if start is None else pd.Timestamp(start)
    folds = []
    progress = Progress("Backtest fold", len(cutoffs), logger)
    for cutoff in cutoffs:
        history = History.from_panel(panel, cutoff, observed=observed, start=start)
        window = (panel[TIME_COLUMN] > cutoff) & (panel[TIME_COLUMN] <= cutoff + horizon * WEEK)
        future = panel.loc[window].drop(columns=[TARGET])
        if future.empty:
            raise ValueError(f"nothing to forecast after the cutoff {pd.Timestamp(cutoff).date()}")
        fold = future[[*ID_COLUMNS, TIME_COLUMN, "is_holiday", "store_type"]].assign(
            cutoff=pd.Timestamp(cutoff),
            step=((future[TIME_COLUMN] - cutoff) // WEEK).astype("int64"),
            actual=panel.loc[window, TARGET].to_numpy(),
        )
        for name, forecaster in forecasters.items():
            forecast = np.asarray(forecaster(history, future), dtype=float)
            if forecast.shape != (len(future),) or np.isnan(forecast).any():
                raise ValueError(
                    f"forecaster {name!r} returned {forecast.shape} values with NaN or wrong length"
                )
            fold[name] = forecast
        folds.append(fold)
        progress.done(
            f"cutoff {pd.Timestamp(cutoff).date()}, {len(fold)} rows, {len(forecasters)} models"
        )
    return pd.concat(folds, ignore_index=True)[[*KEY_COLUMNS, *forecasters]]


def side_by_side(
    backtests: Sequence[pd.DataFrame], forecast_columns: Callable[[pd.DataFrame], list[str]]
) -> pd.DataFrame:
    """Several forecasters' backtests in one frame: one row per series, cutoff and week.

    The first frame keeps all its columns; each other frame adds its forecast columns
    (``forecast_columns(frame)``), matched on the series, the week and the cutoff.

    Raises:
        ValueError: If the backtests do not cover the same rows, or a row's keys repeat.
    """
    keys = [*ID_COLUMNS, TIME_COLUMN, "cutoff"]
    frame = backtests[0]
    unique: bool | None = None  # the first frame's keys, checked once, when first needed
    for other in backtests[1:]:
        columns = forecast_columns(other)
        if _same_rows(frame, other, keys) and not set(columns) & set(frame.columns):
            if unique is None:
                unique = not frame.duplicated(keys).any()
            if unique:
                # the same rows in the same order (backtests of one panel and cutoffs are):
                # what the merge would give, without matching 4 keys over every row
                frame = frame.reset_index(drop=True).assign(
                    **{c: other[c].to_numpy() for c in columns}
                )
                continue
        try:
            merged = frame.merge(
                other[[*keys, *columns]], on=keys, how="inner", validate="one_to_one"
            )
        except pd.errors.MergeError as error:
            raise ValueError(f"a backtest repeats a row's keys {keys}: {error}") from None
        if len(merged) != len(frame) or len(merged) != len(other):
            raise ValueError(
                f"the backtests do not cover the same rows ({len(frame):,} and {len(other):,}"
                f" rows, {len(merged):,} in common)"
            )
        frame = merged
    return frame


def _same_rows(frame: pd.DataFrame, other: pd.DataFrame, keys: Sequence[str]) -> bool:
    """Whether ``other`` has ``frame``'s keys, row for row."""
    return len(frame) == len(other) and all(
        frame[k].dtype == other[k].dtype
        and np.array_equal(frame[k].to_numpy(), other[k].to_numpy())
        for k in keys
    )


def score(
    cv: pd.DataFrame,
    models: Sequence[str] | None = None,
    segments: Sequence[str] = SEGMENTS,
    holiday_weight: float = HOLIDAY_WEIGHT,
) -> pd.DataFrame:
    """WMAE, MAE and RMSE per model, overall and by segment, per fold and over all folds.

    Returns a long frame: model, cutoff (a date, or ``"all"``), segment (``"overall"`` or a
    column name), segment_value, n, wmae, mae, rmse.
    """
    models = list(models) if models is not None else [c for c in cv.columns if c not in KEY_COLUMNS]
    if not models:
        raise ValueError("no model columns to score")
    weight = holiday_weights(cv["is_holiday"], holiday_weight)
    base = cv[list(segments)].copy() if segments else pd.DataFrame(index=cv.index)
    base["cutoff"] = cv["cutoff"].dt.strftime("%Y-%m-%d")
    base["overall"] = "all"
    results = []
    for model in models:
        error = cv[model].to_numpy(dtype=float) - cv["actual"].to_numpy(dtype=float)
        frame = base.assign(
            abs_err=np.abs(error), sq_err=error**2, w=weight, w_abs=weight * np.abs(error)
        )
        for segment in ("overall", *segments):
            for by_fold in (True, False):
                keys = (["cutoff"] if by_fold else []) + [segment]
                sums = frame.groupby(keys, observed=True)[["abs_err", "sq_err", "w", "w_abs"]].sum()
                sums["n"] = frame.groupby(keys, observed=True).size()
                sums = sums.reset_index()
                results.append(
                    pd.DataFrame(
                        {
                            "model": model,
                            "cutoff": sums["cutoff"] if by_fold else "all",
                            "segment": segment,
                            "segment_value": sums[segment].astype(str),
                            "n": sums["n"].astype("int64"),
                            "wmae": sums["w_abs"] / sums["w"],
                            "mae": sums["abs_err"] / sums["n"],
                            "rmse": np.sqrt(sums["sq_err"] / sums["n"]),
                        }
                    )
                )
    return pd.concat(results, ignore_index=True)


def overall(scores: pd.DataFrame) -> dict[str, dict[str, float]]:
    """``{model: {wmae, mae, rmse, n}}`` over all folds, from :func:`score`'s output."""
    rows = scores[(scores["segment"] == "overall") & (scores["cutoff"] == "all")]
    return {
        row.model: {
            "wmae": float(row.wmae),
            "mae": float(row.mae),
            "rmse": float(row.rmse),
            "n": int(row.n),
        }
        for row in rows.itertuples()
    }


def score_column(
    frame: pd.DataFrame,
    pred_col: str,
    actual_col: str = TARGET,
    holiday_col: str = "is_holiday",
    holiday_weight: float = HOLIDAY_WEIGHT,
) -> dict[str, float]:
    """WMAE, MAE and RMSE of one forecast column of any frame, all its rows one fold, computed
    by :func:`score` (the benchmarks score other systems' forecasts with our arithmetic).

    Returns ``{"wmae": ..., "mae": ..., "rmse": ...}`` as Python floats. Raises ``ValueError``
    if a column is missing, the frame is empty, or a column holds NaN (the message names it).
    """
    columns = (actual_col, pred_col, holiday_col)
    missing = [col for col in columns if col not in frame.columns]
    if missing:
        raise ValueError(f"Cannot score: missing column(s) {missing}")
    if frame.empty:
        raise ValueError("Cannot score an empty frame")
    for col in columns:
        n_missing = int(frame[col].isna().sum())
        if n_missing:
            raise ValueError(f"Cannot score: column '{col}' has {n_missing} NaN value(s)")
    cv = pd.DataFrame(
        {
            "cutoff": pd.Timestamp(0),
            "actual": frame[actual_col].to_numpy(dtype=float),
            "is_holiday": frame[holiday_col].to_numpy(dtype=bool),
            "forecast": frame[pred_col].to_numpy(dtype=float),
        }
    )
    totals = overall(score(cv, ["forecast"], segments=(), holiday_weight=holiday_weight))
    return {metric: totals["forecast"][metric] for metric in ("wmae", "mae", "rmse")}


def mlflow_metrics(scores: pd.DataFrame, stage: str = "backtest") -> dict[str, Any]:
    """:func:`score`'s overall rows in kedro-mlflow's metrics-history format.

    ``<stage>.<model>.<metric>`` holds the value over all folds (step 0) and
    ``<stage>_fold.<model>.<metric>`` one value per fold, the step being the fold number in
    cutoff order — so the MLflow UI plots a model's error fold by fold.
    """
    rows = scores[scores["segment"] == "overall"].sort_values("cutoff", kind="stable")
    metrics = ("wmae", "mae", "rmse")
    totals: dict[str, dict[str, float]] = {}
    folds: dict[str, dict[str, list[float]]] = {}
    for row in rows.itertuples():  # "all" sorts after the dates: folds in cutoff order
        if row.cutoff == "all":
            totals[row.model] = {m: float(getattr(row, m)) for m in metrics}
        else:
            per_model = folds.setdefault(row.model, {m: [] for m in metrics})
            for m in metrics:
                per_model[m].append(float(getattr(row, m)))
    return to_mlflow_metrics({stage: totals, f"{stage}_fold": folds})
