"""Forecast error metrics shared by the baselines, modelling and evaluation pipelines.

The competition metric is the weighted mean absolute error (WMAE) of the Kaggle
"Walmart Recruiting - Store Sales Forecasting" challenge::

    WMAE = sum(w_i * |y_i - yhat_i|) / sum(w_i),  w_i = 5 on holiday weeks, 1 otherwise

All functions are pure and accept anything array-like (lists, numpy arrays, pandas Series).
Scoring a forecast frame (per model, fold and segment) is
:func:`retail_forecasting.forecasting.backtest.score`; :func:`to_mlflow_metrics` is the one
flattener of nested scores into MLflow's metric format.
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


def to_mlflow_metrics(metrics: Mapping[str, Any], step: int = 0, sep: str = ".") -> dict[str, Any]:
    """Flatten a nested ``{name: {...: value}}`` dict into the MLflow metrics-history format.

    ``{"lightgbm": {"wmae": 1.0}}`` becomes ``{"lightgbm.wmae": {"value": 1.0, "step": 0}}``,
    the format ``kedro_mlflow.io.metrics.MlflowMetricsHistoryDataset`` saves. A leaf that is a
    list of numbers is a history, logged at steps 1, 2, ... (e.g. one value per backtest fold):
    ``{"m": {"wmae": [3.0, 2.0]}}`` becomes ``{"m.wmae": [{"value": 3.0, "step": 1},
    {"value": 2.0, "step": 2}]}``.

    Raises:
        ValueError: If a leaf value is not a finite number (or a list of them).
    """
    flat: dict[str, Any] = {}

    def _number(name: str, node: Any) -> float:
        if isinstance(node, bool) or not isinstance(node, (int, float, np.number)):
            raise ValueError(f"Metric '{name}' is not a number: {node!r}")
        if not np.isfinite(node):
            raise ValueError(f"Metric '{name}' is not finite: {node!r}")
        return float(node)

    def _walk(prefix: str, node: Any) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                _walk(f"{prefix}{sep}{key}" if prefix else str(key), value)
            return
        if isinstance(node, (list, tuple)):
            flat[prefix] = [
                {"value": _number(prefix, value), "step": i} for i, value in enumerate(node, 1)
            ]
            return
        flat[prefix] = {"value": _number(prefix, node), "step": int(step)}

    _walk("", metrics)
    return flat
