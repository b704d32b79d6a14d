"""Forecast error metrics shared by the baselines, modelling and evaluation pipelines.

The competition metric is the weighted mean absolute error (WMAE) of the Kaggle
"Walmart Recruiting - Store Sales Forecasting" challenge::

    WMAE = sum(w_i * |y_i - yhat_i|) / sum(w_i),  w_i = 5 on holiday weeks, 1 otherwise

All functions are pure and accept anything array-like (lists, numpy arrays, pandas Series).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

logger = logging.getLogger(__name__)

HOLIDAY_WEIGHT = 5.0


def _as_float_array(values: ArrayLike, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise ValueError(f"'{name}' must be one-dimensional, got shape {array.shape}")
    return array


def _check_inputs(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    actual = _as_float_array(y_true, "y_true")
    predicted = _as_float_array(y_pred, "y_pred")
    if actual.size == 0:
        raise ValueError("Cannot compute a metric on empty input")
    if actual.shape != predicted.shape:
        raise ValueError(
            f"Length mismatch: y_true has {actual.size} values, y_pred has {predicted.size}"
        )
    if np.isnan(predicted).any():
        raise ValueError(f"y_pred contains {int(np.isnan(predicted).sum())} NaN value(s)")
    if np.isnan(actual).any():
        raise ValueError(f"y_true contains {int(np.isnan(actual).sum())} NaN value(s)")
    return actual, predicted


def holiday_weights(is_holiday: ArrayLike, holiday_weight: float = HOLIDAY_WEIGHT) -> np.ndarray:
    """Return the WMAE weight of each row: ``holiday_weight`` on holiday weeks, 1 otherwise.

    Args:
        is_holiday: Boolean flags (or 0/1 values), one per row.
        holiday_weight: Weight of a holiday week (5 in the Kaggle metric).

    Returns:
        A float array of weights with the same length as ``is_holiday``.
    """
    if holiday_weight <= 0:
        raise ValueError(f"holiday_weight must be positive, got {holiday_weight}")
    flags = np.asarray(is_holiday)
    if flags.ndim != 1:
        raise ValueError(f"'is_holiday' must be one-dimensional, got shape {flags.shape}")
    if pd.isna(flags).any():
        raise ValueError("'is_holiday' contains missing values")
    return np.where(flags.astype(bool), float(holiday_weight), 1.0)


def wmae(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    is_holiday: ArrayLike,
    holiday_weight: float = HOLIDAY_WEIGHT,
) -> float:
    """Weighted mean absolute error, holiday weeks weighted ``holiday_weight`` (Kaggle metric).

    Raises:
        ValueError: On empty input, mismatched lengths or NaN values.
    """
    actual, predicted = _check_inputs(y_true, y_pred)
    weights = holiday_weights(is_holiday, holiday_weight)
    if weights.shape != actual.shape:
        raise ValueError(
            f"Length mismatch: y_true has {actual.size} values, is_holiday has {weights.size}"
        )
    return float(np.sum(weights * np.abs(actual - predicted)) / np.sum(weights))


def mae(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean absolute error.

    Raises:
        ValueError: On empty input, mismatched lengths or NaN values.
    """
    actual, predicted = _check_inputs(y_true, y_pred)
    return float(np.mean(np.abs(actual - predicted)))


def rmse(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Root mean squared error.

    Raises:
        ValueError: On empty input, mismatched lengths or NaN values.
    """
    actual, predicted = _check_inputs(y_true, y_pred)
    return float(np.sqrt(np.mean((actual - predicted) ** 2)))


def score(
    frame: pd.DataFrame,
    actual_col: str = "weekly_sales",
    pred_col: str = "prediction",
    holiday_col: str = "is_holiday",
    holiday_weight: float = HOLIDAY_WEIGHT,
) -> dict[str, float]:
    """Compute WMAE, MAE and RMSE of one prediction column of a frame.

    Args:
        frame: One row per (series, week) to score.
        actual_col: Column holding the observed target.
        pred_col: Column holding the forecast.
        holiday_col: Boolean column flagging holiday weeks.
        holiday_weight: Weight of a holiday week in the WMAE.

    Returns:
        ``{"wmae": ..., "mae": ..., "rmse": ...}`` as Python floats.

    Raises:
        ValueError: If a column is missing, the frame is empty, or a column holds NaN
            (the message names the column).
    """
    missing = [col for col in (actual_col, pred_col, holiday_col) if col not in frame.columns]
    if missing:
        raise ValueError(f"Cannot score: missing column(s) {missing}")
    if frame.empty:
        raise ValueError("Cannot score an empty frame")
    for col in (actual_col, pred_col, holiday_col):
        n_missing = int(frame[col].isna().sum())
        if n_missing:
            raise ValueError(f"Cannot score: column '{col}' has {n_missing} NaN value(s)")
    y_true, y_pred = frame[actual_col], frame[pred_col]
    return {
        "wmae": wmae(y_true, y_pred, frame[holiday_col], holiday_weight),
        "mae": mae(y_true, y_pred),
        "rmse": rmse(y_true, y_pred),
    }


def to_mlflow_metrics(
    metrics: Mapping[str, Any], step: int = 0, sep: str = "."
) -> dict[str, dict[str, float | int]]:
    """Flatten a nested ``{name: {...: value}}`` dict into the MLflow metrics-history format.

    ``{"lightgbm": {"wmae": 1.0}}`` becomes ``{"lightgbm.wmae": {"value": 1.0, "step": 0}}``,
    the format ``kedro_mlflow.io.metrics.MlflowMetricsHistoryDataset`` saves.

    Raises:
        ValueError: If a leaf value is not a finite number.
    """
    flat: dict[str, dict[str, float | int]] = {}

    def _walk(prefix: str, node: Any) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                _walk(f"{prefix}{sep}{key}" if prefix else str(key), value)
            return
        if isinstance(node, bool) or not isinstance(node, (int, float, np.number)):
            raise ValueError(f"Metric '{prefix}' is not a number: {node!r}")
        if not np.isfinite(node):
            raise ValueError(f"Metric '{prefix}' is not finite: {node!r}")
        flat[prefix] = {"value": float(node), "step": int(step)}

    _walk("", metrics)
    return flat
