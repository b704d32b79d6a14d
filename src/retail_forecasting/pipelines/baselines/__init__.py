"""Baselines: the five baselines and their hybrid (:mod:`retail_forecasting.forecasting.baselines`),
scored on the rolling-origin backtest and forecasting the test window: the bar every model must
clear."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
