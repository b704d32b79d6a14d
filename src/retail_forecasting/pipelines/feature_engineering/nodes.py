"""Nodes of the ``feature_engineering`` pipeline: the panel contract and the model input.

The feature code itself lives in :mod:`retail_forecasting.forecasting.features`, shared with
the backtests of ``baselines`` and ``modelling``; these nodes materialise what the final model
trains and predicts on, so it can be inspected (kedro-viz previews, notebooks).
"""

from __future__ import annotations

import logging
import time

import pandas as pd

from retail_forecasting.forecasting.contract import build_panel as _build_panel
from retail_forecasting.forecasting.features import (
    FeatureParams,
    forecast_frame,
    origin_before,
    training_frame,
)
from retail_forecasting.forecasting.history import History

logger = logging.getLogger(__name__)


def build_panel(
    prm_train: pd.DataFrame, prm_validation: pd.DataFrame, prm_test: pd.DataFrame
) -> pd.DataFrame:
    """Stack the splits into the panel contract (see :mod:`retail_forecasting.forecasting.contract`)."""
    return _build_panel(prm_train, prm_validation, prm_test)


def build_model_input(
    feat_panel: pd.DataFrame, horizon_weeks: int, params: FeatureParams
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Training rows (train + validation, with pseudo-origins) and the test rows' features from
    the last validation week as origin: the input of the final fit and of its test forecast."""
    started = time.perf_counter()
    cutoff = origin_before(feat_panel, "test")
    history = History.from_panel(feat_panel, cutoff, observed=params.covariates.observed)
    training = training_frame(history, feat_panel, params, horizon_weeks)
    forecast = forecast_frame(history, feat_panel[feat_panel["split"] == "test"], params, horizon_weeks)
    logger.info(
        "Features from origin %s: %d training rows, %d rows to forecast, %d features, in %.2f s",
        cutoff.date(), len(training), len(forecast), forecast.shape[1] - 3, time.perf_counter() - started,
    )
    return training, forecast
