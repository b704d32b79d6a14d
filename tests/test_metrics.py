"""Unit tests of ``retail_forecasting.metrics``, with values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from retail_forecasting.metrics import (
    holiday_weights,
    mae,
    rmse,
    to_mlflow_metrics,
    wmae,
)

# errors |y - yhat| = [2, 0, 3]
Y_TRUE = [10.0, 20.0, 30.0]
Y_PRED = [12.0, 20.0, 27.0]


def test_holiday_weights_are_five_on_holidays_and_one_otherwise():
    assert holiday_weights([True, False, True]).tolist() == [5.0, 1.0, 5.0]
    assert holiday_weights(pd.Series([0, 1]), holiday_weight=2.0).tolist() == [1.0, 2.0]


def test_holiday_weights_reject_missing_flags_and_bad_weight():
    with pytest.raises(ValueError, match="missing"):
        holiday_weights(pd.Series([True, None], dtype=object))
    with pytest.raises(ValueError, match="positive"):
        holiday_weights([True], holiday_weight=0)


def test_wmae_weights_holiday_errors_five_times():
    # weights [1, 5, 1]: (2*1 + 0*5 + 3*1) / 7
    assert wmae(Y_TRUE, Y_PRED, [False, True, False]) == pytest.approx(5 / 7)
    # weights [5, 1, 1]: (2*5 + 0 + 3) / 7
    assert wmae(Y_TRUE, Y_PRED, [True, False, False]) == pytest.approx(13 / 7)
    # no holiday: plain MAE
    assert wmae(Y_TRUE, Y_PRED, [False] * 3) == pytest.approx(5 / 3)


def test_wmae_custom_holiday_weight():
    # weights [3, 1, 1]: (6 + 0 + 3) / 5
    assert wmae(Y_TRUE, Y_PRED, [True, False, False], holiday_weight=3.0) == pytest.approx(9 / 5)


def test_mae_and_rmse_by_hand():
    assert mae(Y_TRUE, Y_PRED) == pytest.approx(5 / 3)
    assert rmse(Y_TRUE, Y_PRED) == pytest.approx(math.sqrt(13 / 3))
    assert mae([1.0], [1.0]) == 0.0 == rmse([1.0], [1.0])


def test_metrics_handle_negative_sales():
    # returns: actual -4, forecast 2 -> error 6
    assert mae([-4.0], [2.0]) == 6.0
    assert wmae([-4.0], [2.0], [True]) == 6.0


@pytest.mark.parametrize("metric", [mae, rmse, lambda t, p: wmae(t, p, [False] * len(t))])
def test_metrics_reject_length_mismatch(metric):
    with pytest.raises(ValueError, match="Length mismatch"):
        metric([1.0, 2.0], [1.0])


@pytest.mark.parametrize("metric", [mae, rmse, lambda t, p: wmae(t, p, [])])
def test_metrics_reject_empty_input(metric):
    with pytest.raises(ValueError, match="empty"):
        metric([], [])


@pytest.mark.parametrize("metric", [mae, rmse, lambda t, p: wmae(t, p, [False, False])])
def test_metrics_reject_nan_predictions(metric):
    with pytest.raises(ValueError, match="y_pred contains 1 NaN"):
        metric([1.0, 2.0], [1.0, np.nan])


def test_wmae_rejects_holiday_flags_of_another_length():
    with pytest.raises(ValueError, match="is_holiday"):
        wmae(Y_TRUE, Y_PRED, [True])


def test_to_mlflow_metrics_flattens_nested_names():
    metrics = {"seasonal_naive": {"wmae": 1.5, "mae": np.float64(2.0)}, "lightgbm": {"rmse": 3}}
    assert to_mlflow_metrics(metrics) == {
        "seasonal_naive.wmae": {"value": 1.5, "step": 0},
        "seasonal_naive.mae": {"value": 2.0, "step": 0},
        "lightgbm.rmse": {"value": 3.0, "step": 0},
    }


@pytest.mark.parametrize("bad", ["1.0", None, True, float("nan"), float("inf")])
def test_to_mlflow_metrics_rejects_non_numbers(bad):
    with pytest.raises(ValueError, match="model.wmae"):
        to_mlflow_metrics({"model": {"wmae": bad}})


def test_to_mlflow_metrics_logs_a_list_as_a_history_from_step_one():
    assert to_mlflow_metrics({"m": {"wmae": [3.0, np.float64(2.0)]}, "n": 1}, step=7) == {
        "m.wmae": [{"value": 3.0, "step": 1}, {"value": 2.0, "step": 2}],
        "n": {"value": 1.0, "step": 7},
    }
    with pytest.raises(ValueError, match="'m.wmae' is not finite"):
        to_mlflow_metrics({"m": {"wmae": [1.0, float("nan")]}})
