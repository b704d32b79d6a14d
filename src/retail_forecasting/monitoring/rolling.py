"""The rolling forecast: the registered model, its history refreshed from the warehouse's newest
weeks (:meth:`ChampionForecaster.update`, no refit), forecasts the next weeks of every active
series; the rows of ``retailds.fact_forecast_weekly``."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from retail_forecasting.calendar import holiday_fridays
from retail_forecasting.forecasting.champion import ChampionForecaster
from retail_forecasting.forecasting.contract import MARKDOWNS
from retail_forecasting.kaggle.schema import MARKDOWN_COLUMNS, PANEL_NAMES
from retail_forecasting.model_registry import forecaster_of
from retail_forecasting.monitoring.store import (
    QUANTILES,
    quantile_column,
    registered_version,
    table_rows,
)
from retail_forecasting.pipelines.inference.checks import (
    MODEL,
    NEW_SERIES,
    UNSEEN_DEPARTMENT,
    UNSEEN_DEPARTMENT_FORECAST,
)

logger = logging.getLogger(__name__)

WEEK = pd.Timedelta(weeks=1)


class ForecastParams(BaseModel):
    """``forecast`` parameters (``conf/base/parameters_monitoring.yml``)."""

    model_config = ConfigDict(extra="forbid")

    horizon_weeks: int | None = Field(
        None, ge=1, description="weeks ahead; None = the model's horizon"
    )
    active_weeks: int = Field(
        8, ge=1, description="a series is forecast if it has a row in these last weeks"
    )


def holiday_flags(dates: pd.Series) -> pd.Series:
    """Kaggle's IsHoliday of each week (the Super Bowl, Labor Day, Thanksgiving, Christmas
    weeks)."""
    dates = pd.to_datetime(dates)
    fridays = {
        pd.Timestamp(d)
        for y in range(dates.dt.year.min(), dates.dt.year.max() + 1)
        for d in holiday_fridays(y).values()
    }
    return dates.isin(fridays)


def future_rows(
    sales: pd.DataFrame,
    store_features: pd.DataFrame,
    origin: pd.Timestamp,
    horizon: int,
    active_weeks: int,
) -> pd.DataFrame:
    """Kaggle-shaped rows (Store, Dept, Date, IsHoliday, MarkDown1..5) of the ``horizon`` weeks
    after ``origin`` for every series with a row in the ``active_weeks`` weeks up to it.
    IsHoliday and the planned markdowns come from ``store_features_weekly`` where it has the
    week (features.csv runs ahead of the sales), else the holiday calendar and no markdowns."""
    recent = sales.loc[
        (sales["date"] > origin - active_weeks * WEEK) & (sales["date"] <= origin),
        ["store", "dept"],
    ]
    series = recent.drop_duplicates().sort_values(["store", "dept"])
    weeks = pd.DataFrame({"date": pd.date_range(origin + WEEK, periods=horizon, freq="7D")})
    rows = series.merge(weeks, how="cross")
    planned = store_features[["store", "date", "is_holiday", *MARKDOWNS]]
    rows = rows.merge(planned, on=["store", "date"], how="left", validate="many_to_one")
    calendar = holiday_flags(rows["date"])
    holiday = (
        rows["is_holiday"]
        .astype("boolean")
        .fillna(pd.Series(calendar.to_numpy(), index=rows.index))
    )
    return pd.DataFrame(
        {
            "Store": rows["store"].astype("int64"),
            "Dept": rows["dept"].astype("int64"),
            "Date": rows["date"],
            "IsHoliday": holiday.astype(bool),
            **{c: rows[PANEL_NAMES[c]].astype(float) for c in MARKDOWN_COLUMNS},
        }
    )


def forecast_basis(rows: pd.DataFrame, trained: ChampionForecaster) -> np.ndarray:
    """As inference: ``unseen_department`` for departments the model was never trained on,
    ``new_series`` for series it had no history of when registered, else ``model``."""
    known = trained.known_series()
    key = pd.MultiIndex.from_arrays([rows["Store"], rows["Dept"]])
    seen = key.isin(pd.MultiIndex.from_frame(known[["store", "dept"]]))
    dept_known = rows["Dept"].isin(known["dept"]).to_numpy()
    return np.select([~dept_known, ~seen], [UNSEEN_DEPARTMENT, NEW_SERIES], MODEL)


def rolling_forecast(
    model: Any,
    sales: pd.DataFrame,
    store_features: pd.DataFrame,
    params: ForecastParams,
    now: pd.Timestamp | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The registered ``model`` re-forecast from the newest week of ``sales`` (the warehouse's
    analytics view): the fitted parameters are kept and only the history is refreshed
    (:meth:`ChampionForecaster.update`). Returns the rows of ``fact_forecast_weekly`` and a
    summary (model, version, origin, rows, per-basis counts)."""
    trained = forecaster_of(model)
    version, run_id = registered_version(model)
    if sales.empty:
        raise ValueError("the warehouse holds no sales: run the ingestion pipeline first")
    sales = sales.assign(date=pd.to_datetime(sales["date"]).astype("datetime64[ns]"))
    newer = sales.loc[
        sales["date"] > trained.origin - 52 * WEEK
    ]  # corrections of the last year too
    updated = trained.update(newer)
    horizon = min(params.horizon_weeks or trained.horizon, trained.horizon)
    store_features = store_features.assign(
        date=pd.to_datetime(store_features["date"]).astype("datetime64[ns]")
    )
    rows = future_rows(sales, store_features, updated.origin, horizon, params.active_weeks)
    basis = forecast_basis(rows, trained)
    values = np.full(len(rows), UNSEEN_DEPARTMENT_FORECAST)
    quantiles = {q: np.full(len(rows), np.nan) for q in QUANTILES}
    ok = basis != UNSEEN_DEPARTMENT
    if ok.any():
        out = updated.forecast(rows.loc[ok].reset_index(drop=True))
        values[ok] = out["Weekly_Sales"].to_numpy(dtype=float)
        for q in QUANTILES:
            column = f"Weekly_Sales_q{q:g}"
            if column in out:
                quantiles[q][ok] = out[column].to_numpy(dtype=float)
    if np.isnan(values).any():
        raise ValueError("the model returned missing forecasts")
    frame = table_rows(
        trained.name,
        version,
        run_id,
        updated.origin,
        rows["Store"],
        rows["Dept"],
        rows["Date"],
        values,
        quantiles,
        basis,
        now,
    )
    summary = {
        "model_name": trained.name,
        "model_version": version,
        "run_id": run_id,
        "trained_origin": f"{trained.origin:%Y-%m-%d}",
        "origin": f"{updated.origin:%Y-%m-%d}",
        "weeks_since_training": int((updated.origin - trained.origin) // WEEK),
        "horizon_weeks": horizon,
        "series": int(len(rows) // max(horizon, 1)),
        "rows": int(len(frame)),
        "forecast_basis": {k: int(v) for k, v in pd.Series(basis).value_counts().items()},
        "quantiles": [quantile_column(q) for q in QUANTILES if not np.isnan(quantiles[q]).all()],
        "total_forecast_next_week": float(frame.loc[frame["step"] == 1, "forecast"].sum()),
    }
    logger.info(
        "Rolling forecast: %s version %s from %s (%d weeks after training): %d series x %d weeks",
        trained.name,
        version,
        summary["origin"],
        summary["weeks_since_training"],
        summary["series"],
        horizon,
    )
    return frame, summary
