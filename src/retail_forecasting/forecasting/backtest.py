"""Rolling-origin cross-validation and the metrics computed from its output.

:func:`cross_validation` returns one long frame — series, week, ``cutoff``, ``step``,
``actual`` and one column per model — for any set of forecasters, baselines or learners alike;
:func:`score` turns such a frame into WMAE/MAE/RMSE overall and by segment, per fold and
aggregated. The test window is scored by the same two functions (one fold whose cutoff is the
last validation week), so every number in the project comes from one code path.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from retail_forecasting.forecasting.baselines import Forecaster
from retail_forecasting.forecasting.contract import ID_COLUMNS, TARGET, TIME_COLUMN
from retail_forecasting.forecasting.history import WEEK, History
from retail_forecasting.metrics import HOLIDAY_WEIGHT, holiday_weights

logger = logging.getLogger(__name__)

KEY_COLUMNS = [*ID_COLUMNS, TIME_COLUMN, "cutoff", "step", "is_holiday", "store_type", "actual"]
SEGMENTS = ("store_type", "dept", "is_holiday", "step")


class BacktestParams(BaseModel):
    """``backtest`` parameters (``conf/base/parameters_baselines.yml``)."""

    model_config = ConfigDict(extra="forbid")

    n_windows: int = Field(3, ge=1)
    step_weeks: int = Field(6, ge=1, description="weeks between consecutive cutoffs")
    min_history_weeks: int = Field(52, ge=1, description="weeks of history the first cutoff needs")


def rolling_cutoffs(
    dates: pd.Series | pd.DatetimeIndex, horizon: int, params: BacktestParams
) -> list[pd.Timestamp]:
    """Cutoffs of ``n_windows`` windows of ``horizon`` weeks, ``step_weeks`` apart, the last
    window ending on the last date. Raises if the first cutoff has too little history."""
    weeks = pd.DatetimeIndex(pd.unique(pd.DatetimeIndex(dates))).sort_values()
    last_cutoff = weeks[-1] - horizon * WEEK
    cutoffs = [last_cutoff - (params.n_windows - 1 - i) * params.step_weeks * WEEK for i in range(params.n_windows)]
    history = (cutoffs[0] - weeks[0]) // WEEK + 1
    if history < params.min_history_weeks:
        raise ValueError(
            f"the first cutoff {cutoffs[0].date()} has {history} weeks of history; "
            f"{params.n_windows} windows of {horizon} weeks, {params.step_weeks} weeks apart, need "
            f"{params.min_history_weeks} (reduce n_windows/step_weeks or the horizon)"
        )
    return cutoffs


def cross_validation(
    panel: pd.DataFrame,
    forecasters: Mapping[str, Forecaster],
    horizon: int,
    cutoffs: Sequence[pd.Timestamp],
    observed: Sequence[str] = (),
) -> pd.DataFrame:
    """Forecast the ``horizon`` weeks after each cutoff with every forecaster.

    Each forecaster gets a :class:`History` built from the rows dated at or before the cutoff
    and the rows to forecast **without** their target; it returns one forecast per row.
    """
    start = panel[TIME_COLUMN].min()
    folds = []
    for number, cutoff in enumerate(cutoffs, start=1):
        began = time.perf_counter()
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
                raise ValueError(f"forecaster {name!r} returned {forecast.shape} values with NaN or wrong length")
            fold[name] = forecast
        folds.append(fold)
        logger.info(
            "Backtest fold %d/%d: cutoff %s, %d rows, %d models in %.1f s",
            number, len(cutoffs), pd.Timestamp(cutoff).date(), len(fold), len(forecasters),
            time.perf_counter() - began,
        )
    return pd.concat(folds, ignore_index=True)[[*KEY_COLUMNS, *forecasters]]


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
        frame = base.assign(abs_err=np.abs(error), sq_err=error**2, w=weight, w_abs=weight * np.abs(error))
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
        row.model: {"wmae": float(row.wmae), "mae": float(row.mae), "rmse": float(row.rmse), "n": int(row.n)}
        for row in rows.itertuples()
    }


def mlflow_metrics(scores: pd.DataFrame, stage: str = "backtest") -> dict[str, Any]:
    """:func:`score`'s overall rows in kedro-mlflow's metrics-history format.

    ``<stage>.<model>.<metric>`` holds the value over all folds (step 0) and
    ``<stage>_fold.<model>.<metric>`` one value per fold, the step being the fold number in
    cutoff order — so the MLflow UI plots a model's error fold by fold.
    """
    rows = scores[scores["segment"] == "overall"]
    folds = sorted(c for c in rows["cutoff"].unique() if c != "all")
    out: dict[str, Any] = {}
    for row in rows.itertuples():
        for metric in ("wmae", "mae", "rmse"):
            value = float(getattr(row, metric))
            if row.cutoff == "all":
                out[f"{stage}.{row.model}.{metric}"] = {"value": value, "step": 0}
            else:
                history = out.setdefault(f"{stage}_fold.{row.model}.{metric}", [])
                history.append({"value": value, "step": folds.index(row.cutoff) + 1})
    return out
