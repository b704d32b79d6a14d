"""Learned forecasters that plug into :func:`.backtest.cross_validation` like the baselines.

A learner is fit at each cutoff on :func:`.features.training_frame` (rows up to the cutoff,
each with a pseudo-origin) and predicts :func:`.features.forecast_frame` (the rows after the
cutoff, origin = cutoff): the same feature code path for training, backtests and the final
forecast of the test window.
"""

from __future__ import annotations

import logging
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from retail_forecasting.forecasting.contract import TARGET
from retail_forecasting.forecasting.features import (
    FeatureParams,
    feature_columns,
    forecast_frame,
    training_frame,
)
from retail_forecasting.forecasting.history import History
from retail_forecasting.metrics import holiday_weights

logger = logging.getLogger(__name__)


class LightGBMParams(BaseModel):
    """``modelling.lightgbm`` parameters: booster parameters and the number of rounds."""

    model_config = ConfigDict(extra="forbid")

    num_boost_round: int = Field(300, ge=1)
    holiday_weight: float = Field(5.0, gt=0, description="training weight of holiday weeks (the WMAE weight)")
    categorical_features: list[str] = ["store", "dept", "store_type_code"]
    booster: dict[str, Any] = {}


def fit_lightgbm(frame: pd.DataFrame, features: list[str], params: LightGBMParams) -> lgb.Booster:
    """Fit a LightGBM regressor on a training frame, weighting rows like the WMAE."""
    if frame[TARGET].isna().any():
        raise ValueError(f"the training frame has {int(frame[TARGET].isna().sum())} NaN targets")
    data = lgb.Dataset(
        frame[features].astype(float),
        label=frame[TARGET].to_numpy(dtype=float),
        weight=holiday_weights(frame["is_holiday"], params.holiday_weight),
        categorical_feature=[c for c in params.categorical_features if c in features],
        free_raw_data=True,
    )
    return lgb.train(params.booster, data, num_boost_round=params.num_boost_round)


def predict_lightgbm(model: lgb.Booster, frame: pd.DataFrame) -> np.ndarray:
    """Predict a forecast frame with the booster's own feature list."""
    return model.predict(frame[model.feature_name()].astype(float))


class LightGBMForecaster:
    """A global LightGBM model refit at every cutoff of a backtest."""

    def __init__(self, features: FeatureParams, params: LightGBMParams, horizon: int) -> None:
        self.features = features
        self.params = params
        self.horizon = horizon
        self.panel: pd.DataFrame | None = None

    def with_panel(self, panel: pd.DataFrame) -> LightGBMForecaster:
        """Bind the panel whose rows up to each cutoff form the training set."""
        self.panel = panel
        return self

    def __call__(self, history: History, future: pd.DataFrame) -> np.ndarray:
        if self.panel is None:
            raise RuntimeError("call with_panel(panel) before backtesting a learner")
        train = training_frame(history, self.panel, self.features, self.horizon)
        model = fit_lightgbm(train, feature_columns(self.features), self.params)
        return predict_lightgbm(model, forecast_frame(history, future, self.features, self.horizon))
