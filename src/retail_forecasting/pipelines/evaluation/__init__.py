"""Evaluation: every baseline and model scored on the same test window (overall and by segment),
the champion chosen on the backtest and logged to the MLflow model registry with its prediction
intervals, and the reporting figures (test forecast, errors by segment and step, feature
importance, sampled series, fan chart, interval coverage)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
