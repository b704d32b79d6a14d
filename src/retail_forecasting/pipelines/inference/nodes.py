"""Nodes of the ``inference`` pipeline: the registered champion (an MLflow pyfunc of raw-shaped
rows, see :mod:`retail_forecasting.model_registry`) forecasts the future weeks listed in
``test.csv``, after the checks of :mod:`.checks` (refusals with file, column, lines and
examples; a fixed fallback, counted, for departments the model has never seen).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from retail_forecasting.kaggle.checks import (
    as_friday,
    as_number,
    file_name,
    no_duplicates,
    require_columns,
    required_not_null,
)
from retail_forecasting.kaggle.schema import MARKDOWN_COLUMNS, to_kaggle_names
from retail_forecasting.model_registry import forecaster_of
from retail_forecasting.monitoring.store import registered_version, table_rows
from retail_forecasting.pipelines.inference import checks

logger = logging.getLogger(__name__)


def planned_markdowns(raw_features: pd.DataFrame) -> pd.DataFrame:
    """Store, Date and the MarkDown1..5 columns features.csv has (checked like ingestion)."""
    file, keys = file_name(raw_features, "features.csv"), ["Store", "Date"]
    with checks.advice(
        "features.csv gives the planned markdowns of the weeks to forecast: fix "
        "these rows (or pass the bundle's features.csv) and run again."
    ):
        require_columns(raw_features, file, keys)
        markdowns = {
            c: as_number(raw_features, file, c, keys) for c in MARKDOWN_COLUMNS if c in raw_features
        }
        no_duplicates(raw_features, file, keys)
        return pd.DataFrame(
            {
                "Store": as_number(raw_features, file, "Store", keys, integer=True),
                "Date": as_friday(raw_features, file, keys),
                **markdowns,
            }
        )


def store_ids(raw_stores: pd.DataFrame) -> pd.Series:
    """The Store column of stores.csv (checked like ingestion: present, filled, whole numbers)."""
    file = file_name(raw_stores, "stores.csv")
    with checks.advice("stores.csv lists the stores that exist: pass the bundle's stores.csv."):
        require_columns(raw_stores, file, ["Store"])
        required_not_null(raw_stores, file, ["Store"], ["Store"])
        return as_number(raw_stores, file, "Store", ["Store"], integer=True)


def prepare_inference_input(
    raw_test: pd.DataFrame, raw_features: pd.DataFrame, raw_stores: pd.DataFrame, model: Any
) -> pd.DataFrame:
    """test.csv rows (Store, Dept, Date, IsHoliday), checked against stores.csv and the
    registered model (:mod:`.checks`), with the week's planned markdowns from features.csv
    (known in advance; NaN where features.csv has none) and each row's ``forecast_basis``."""
    raw_test, raw_features = to_kaggle_names(raw_test), to_kaggle_names(raw_features)
    test = checks.parse_test(raw_test)
    checks.check_stores(test, raw_test, store_ids(raw_stores))
    basis = checks.forecast_basis(test, raw_test, forecaster_of(model))
    known = planned_markdowns(raw_features)
    merged = test.merge(known, on=["Store", "Date"], how="left", validate="many_to_one")
    return merged.assign(forecast_basis=basis.to_numpy())


def forecast_test_weeks(
    model: Any, inference_input: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The Kaggle submission (``Id = Store_Dept_Date``, ``Weekly_Sales``) and a tidy forecast
    table (store, dept, date, is_holiday, weekly_sales_forecast, the model's quantiles
    ``q0.025`` … ``q0.975`` if it returns ``Weekly_Sales_q…`` columns, forecast_basis), in
    test.csv's row order. Rows of departments the model has never seen get
    :data:`.checks.UNSEEN_DEPARTMENT_FORECAST` (their quantiles too); the model forecasts the
    others."""
    basis = inference_input["forecast_basis"].to_numpy()
    forecastable = basis != checks.UNSEEN_DEPARTMENT
    values = np.full(len(inference_input), checks.UNSEEN_DEPARTMENT_FORECAST)
    quantiles: dict[str, np.ndarray] = {}
    if forecastable.any():
        rows = (
            inference_input.loc[forecastable].drop(columns="forecast_basis").reset_index(drop=True)
        )
        # test.csv's shape, as the registered pyfunc's signature declares it: Date as YYYY-MM-DD
        # text (MLflow refuses a datetime column: "Failed to enforce schema")
        rows["Date"] = pd.to_datetime(rows["Date"]).dt.strftime("%Y-%m-%d")
        forecast = model.predict(rows)
        if len(forecast) != len(rows) or forecast["Weekly_Sales"].isna().any():
            raise ValueError("the model returned missing or misaligned forecasts")
        values[forecastable] = forecast["Weekly_Sales"].to_numpy(dtype=float)
        for column in [c for c in forecast.columns if c.startswith("Weekly_Sales_q")]:  # issue #12
            quantiles[column.removeprefix("Weekly_Sales_")] = np.full(
                len(inference_input), checks.UNSEEN_DEPARTMENT_FORECAST
            )
            quantiles[column.removeprefix("Weekly_Sales_")][forecastable] = forecast[
                column
            ].to_numpy(dtype=float)
    dates = pd.to_datetime(inference_input["Date"])
    day = dates.dt.strftime("%Y-%m-%d")
    submission = pd.DataFrame(
        {
            "Id": inference_input["Store"].astype(str)
            + "_"
            + inference_input["Dept"].astype(str)
            + "_"
            + day,
            "Weekly_Sales": values,
        }
    )
    tidy = pd.DataFrame(
        {
            "store": inference_input["Store"].to_numpy(),
            "dept": inference_input["Dept"].to_numpy(),
            "date": dates.to_numpy(),
            "is_holiday": inference_input["IsHoliday"].astype(bool).to_numpy(),
            "weekly_sales_forecast": values,
            **quantiles,
            "forecast_basis": basis,
        }
    )
    counts = tidy["forecast_basis"].value_counts().to_dict()
    logger.info(
        "Forecast %d test.csv rows, %s..%s; forecast_basis counts %s",
        len(tidy),
        day.min(),
        day.max(),
        counts,
    )
    return submission, tidy


def tabulate_forecasts(model: Any, forecasts: pd.DataFrame) -> pd.DataFrame:
    """The tidy forecasts as rows of ``retailds.fact_forecast_weekly`` (docs/monitoring.md): the
    registered model's name, version and run, its origin (the newest week it was trained on),
    ``step`` weeks ahead, the quantiles it returned (NULL otherwise). Saved by the same upsert as
    the ``forecast`` pipeline's rows: a batch replaces the stored forecasts of its (model version,
    origin), so re-running inference never duplicates, and whichever of the two pipelines ran last
    for an origin holds that origin's rows."""
    forecaster = forecaster_of(model)
    version, run_id = registered_version(model)
    quantiles = {
        float(c.removeprefix("q")): forecasts[c].to_numpy(dtype=float)
        for c in forecasts.columns
        if c.startswith("q")
    }
    return table_rows(
        forecaster.name,
        version,
        run_id,
        forecaster.origin,
        forecasts["store"],
        forecasts["dept"],
        forecasts["date"],
        forecasts["weekly_sales_forecast"],
        quantiles,
        forecasts["forecast_basis"],
    )
