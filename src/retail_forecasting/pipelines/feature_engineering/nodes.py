"""Nodes of the ``feature_engineering`` pipeline: the panel contract and the model input.

The feature code itself lives in :mod:`retail_forecasting.forecasting.features`, shared with
the backtests of ``baselines`` and ``modelling``; these nodes materialise what the final models
predict on (the test rows' features), so it can be inspected (kedro-viz previews, notebooks).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import pandas as pd

from retail_forecasting.forecasting.backtest import BacktestParams, check_request
from retail_forecasting.forecasting.contract import build_panel as _build_panel
from retail_forecasting.forecasting.features import (
    FeatureParams,
    forecast_frame,
    origin_before,
)
from retail_forecasting.forecasting.history import History

logger = logging.getLogger(__name__)


def check_forecast_request(
    raw_train: pd.DataFrame,
    horizon_weeks: int,
    validation_weeks: int,
    min_train_weeks: int,
    backtest: BacktestParams,
    features: FeatureParams,
) -> dict[str, Any]:
    """Refuse a ``horizon_weeks`` the data cannot serve, before any work is done.

    Reads only the raw sales' dates and the parameters: the test window, the validation window
    and the minimum train must fit in the weeks of ``train.csv``, the features must serve the
    horizon, and an honest backtest must exist in train + validation
    (:func:`retail_forecasting.forecasting.backtest.check_request`). The node depends on nothing
    another node makes, and its name sorts before every other ready node, so Kedro runs it first.
    Malformed dates are left to ingestion's validation (which reports them properly).
    """
    dates = (
        pd.to_datetime(raw_train["Date"], errors="coerce")
        if "Date" in raw_train
        else pd.Series(dtype="datetime64[ns]")
    )
    n_weeks = int(dates.dropna().nunique())
    if n_weeks == 0:
        logger.warning(
            "No sales dates to check horizon_weeks=%d against; ingestion validates the file",
            horizon_weeks,
        )
        return {"horizon_weeks": int(horizon_weeks), "checked": False}
    plan = check_request(
        n_weeks,
        horizon_weeks,
        validation_weeks,
        min_train_weeks,
        backtest,
        features.longest_horizon,
    )
    design = plan["backtest_design"]
    logger.info(
        "Forecast request: %d weeks ahead from %d weeks of sales (at most %d possible); "
        "backtest: %s",
        horizon_weeks,
        n_weeks,
        plan["max_horizon_weeks"],
        design["reason"],
    )
    return {**plan, "checked": True}


def build_panel(
    prm_train: pd.DataFrame, prm_validation: pd.DataFrame, prm_test: pd.DataFrame
) -> pd.DataFrame:
    """Stack the splits into the panel contract (see
    :mod:`retail_forecasting.forecasting.contract`)."""
    return _build_panel(prm_train, prm_validation, prm_test)


def build_model_input(
    feat_panel: pd.DataFrame, horizon_weeks: int, params: FeatureParams
) -> pd.DataFrame:
    """The test rows' features from the last validation week as origin: the input of the final
    models' test forecast. (Each learner's final fit builds the features of its own sample of
    train + validation, as its tuning and backtest fits do: features for every training row
    would cost memory in proportion to the data, 524 MB at 450 stores, for rows no fit uses.)"""
    started = time.perf_counter()
    cutoff = origin_before(feat_panel, "test")
    history = History.from_panel(feat_panel, cutoff, observed=params.covariates.observed)
    forecast = forecast_frame(
        history, feat_panel[feat_panel["split"] == "test"], params, horizon_weeks
    )
    logger.info(
        "Features from origin %s: %d rows to forecast, %d features, in %.2f s",
        cutoff.date(),
        len(forecast),
        forecast.shape[1] - 3,
        time.perf_counter() - started,
    )
    return forecast
