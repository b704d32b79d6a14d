"""Nodes of the ``inference`` pipeline: the registered champion (an MLflow pyfunc of raw-shaped
rows, see :mod:`retail_forecasting.registry`) forecasts the future weeks listed in ``test.csv``.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from retail_forecasting.forecasting.champion import RAW_COLUMNS

logger = logging.getLogger(__name__)

MARKDOWN_COLUMNS = [f"MarkDown{i}" for i in range(1, 6)]


def _kaggle_names(frame: pd.DataFrame) -> pd.DataFrame:
    back = {v: k for k, v in RAW_COLUMNS.items()}
    return frame.rename(columns={c: back[c] for c in frame.columns if c in back})


def prepare_inference_input(raw_test: pd.DataFrame, raw_features: pd.DataFrame) -> pd.DataFrame:
    """test.csv rows (Store, Dept, Date, IsHoliday) with the week's planned markdowns from
    features.csv (known in advance; NaN where features.csv has none)."""
    test, features = _kaggle_names(raw_test), _kaggle_names(raw_features)
    missing = [c for c in ("Store", "Dept", "Date", "IsHoliday") if c not in test]
    if missing:
        raise ValueError(f"test.csv lacks column(s) {missing}")
    test = test.assign(Date=pd.to_datetime(test["Date"]))
    markdowns = [c for c in MARKDOWN_COLUMNS if c in features]
    if markdowns:
        known = features.assign(Date=pd.to_datetime(features["Date"]))[["Store", "Date", *markdowns]]
        test = test.drop(columns=markdowns, errors="ignore").merge(
            known.drop_duplicates(["Store", "Date"]), on=["Store", "Date"], how="left", validate="many_to_one"
        )
    if test.duplicated(["Store", "Dept", "Date"]).any():
        raise ValueError("test.csv has duplicate (Store, Dept, Date) rows")
    return test


def forecast_test_weeks(model: Any, inference_input: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The Kaggle submission (``Id = Store_Dept_Date``, ``Weekly_Sales``) and a tidy forecast
    table (store, dept, date, is_holiday, weekly_sales_forecast), in test.csv's row order."""
    forecast = model.predict(inference_input)
    if len(forecast) != len(inference_input) or forecast["Weekly_Sales"].isna().any():
        raise ValueError("the model returned missing or misaligned forecasts")
    dates = pd.to_datetime(forecast["Date"]).dt.strftime("%Y-%m-%d")
    submission = pd.DataFrame(
        {"Id": forecast["Store"].astype(str) + "_" + forecast["Dept"].astype(str) + "_" + dates,
         "Weekly_Sales": forecast["Weekly_Sales"].to_numpy()}
    )
    tidy = pd.DataFrame(
        {"store": forecast["Store"].to_numpy(), "dept": forecast["Dept"].to_numpy(),
         "date": pd.to_datetime(forecast["Date"]).to_numpy(),
         "is_holiday": inference_input["IsHoliday"].map(lambda v: str(v).strip().lower() in ("true", "1")).to_numpy(),
         "weekly_sales_forecast": forecast["Weekly_Sales"].to_numpy()}
    )
    logger.info("Forecast %d test.csv rows, %s..%s", len(tidy), dates.min(), dates.max())
    return submission, tidy
