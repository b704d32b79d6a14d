"""Nodes of the ``modelling`` pipeline: one global LightGBM, backtested on the same rolling
origins as the baselines, then fit on train + validation to forecast the test window.

(The model zoo, tuning and the ensemble come with issue #4; this keeps the DAG whole.)
"""

from __future__ import annotations

import logging
import time
from typing import Any

import lightgbm as lgb
import pandas as pd
from pydantic import BaseModel, ConfigDict

from retail_forecasting.forecasting.backtest import (
    BacktestParams,
    cross_validation,
    overall,
    rolling_cutoffs,
    score,
)
from retail_forecasting.forecasting.features import FeatureParams, feature_columns
from retail_forecasting.forecasting.learners import (
    LightGBMForecaster,
    LightGBMParams,
    fit_lightgbm,
    predict_lightgbm,
)
from retail_forecasting.metrics import to_mlflow_metrics

logger = logging.getLogger(__name__)

MODEL = "lightgbm"


class ModellingParams(BaseModel):
    """``modelling`` parameters (``conf/base/parameters_modelling.yml``)."""

    model_config = ConfigDict(extra="forbid")

    lightgbm: LightGBMParams = LightGBMParams()


def backtest_lightgbm(
    feat_panel: pd.DataFrame,
    horizon_weeks: int,
    backtest: BacktestParams,
    features: FeatureParams,
    params: ModellingParams,
) -> tuple[pd.DataFrame, dict[str, Any], dict]:
    """Refit LightGBM at every backtest cutoff (the baselines' cutoffs) and forecast each window."""
    history = feat_panel[feat_panel["split"] != "test"]
    cutoffs = rolling_cutoffs(history["date"], horizon_weeks, backtest)
    forecaster = LightGBMForecaster(features, params.lightgbm, horizon_weeks).with_panel(history)
    cv = cross_validation(history, {MODEL: forecaster}, horizon_weeks, cutoffs, observed=features.covariates.observed)
    models = overall(score(cv, [MODEL]))
    logger.info("LightGBM backtest: WMAE %.1f", models[MODEL]["wmae"])
    mlflow_metrics = to_mlflow_metrics({"backtest": {MODEL: {k: v for k, v in models[MODEL].items() if k != "n"}}})
    return cv, models, mlflow_metrics


def train_lightgbm(mi_training_frame: pd.DataFrame, features: FeatureParams, params: ModellingParams) -> lgb.Booster:
    """Fit the final LightGBM on train + validation (the test window's origin)."""
    started = time.perf_counter()
    model = fit_lightgbm(mi_training_frame, feature_columns(features), params.lightgbm)
    logger.info("Fit LightGBM on %d rows in %.1f s", len(mi_training_frame), time.perf_counter() - started)
    return model


def forecast_lightgbm(mdl_lightgbm: lgb.Booster, mi_forecast_frame: pd.DataFrame) -> pd.DataFrame:
    """The final model's forecast of every test row: store, dept, date, lightgbm."""
    return pd.DataFrame(
        {
            "store": mi_forecast_frame["store"].to_numpy(),
            "dept": mi_forecast_frame["dept"].to_numpy(),
            "date": mi_forecast_frame["date"].to_numpy(),
            MODEL: predict_lightgbm(mdl_lightgbm, mi_forecast_frame),
        }
    )
